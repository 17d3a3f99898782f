//! Every local SPL command and `eval` function on five hand-built login
//! events, with expected values worked out by hand.

use argus::event::{Event, Row, Value};
use argus::spl::{self, RunContext, SplErrorKind};
use indexmap::IndexMap;

/// 2023-12-10T00:00:00Z, a Sunday midnight.
const T: i64 = 1_702_166_400;
const SECOND: i64 = 1_000_000;
/// The clock: T + 1 day + 7 minutes, so `-24h` is T + 420 s.
const NOW: i64 = (T + 86_400 + 420) * SECOND;

fn event(offset: i64, raw: &str, fields: &[(&str, &str)]) -> Event {
    Event {
        time: (T + offset) * SECOND,
        raw: raw.to_string(),
        host: "ws01".into(),
        source: "auth.log".into(),
        sourcetype: "auth".into(),
        index: "main".into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect::<IndexMap<_, _>>(),
    }
}

/// Five events at T+0, +30, +90, +400, +700 seconds, newest first as the store returns them.
fn events() -> Vec<Event> {
    let mut events = vec![
        event(
            0,
            "login user=alice src=10.0.0.1 bytes=100",
            &fields("alice", "login", "100", "10.0.0.1"),
        ),
        event(
            30,
            "login user=bob src=10.0.0.2 bytes=250",
            &fields("bob", "login", "250", "10.0.0.2"),
        ),
        event(
            90,
            "logout Alice from 10.0.0.1 bytes=50",
            &fields("alice", "logout", "50", "10.0.0.1"),
        ),
        event(
            400,
            "LOGIN user=carol src=192.168.1.5 bytes=1000",
            &fields("carol", "login", "1000", "192.168.1.5"),
        ),
        event(
            700,
            "login user=alice src=10.0.0.1 bytes=75",
            &fields("alice", "login", "75", "10.0.0.1"),
        ),
    ];
    events.reverse();
    events
}

fn fields<'a>(
    user: &'a str,
    action: &'a str,
    bytes: &'a str,
    src: &'a str,
) -> [(&'a str, &'a str); 4] {
    [
        ("user", user),
        ("action", action),
        ("bytes", bytes),
        ("src", src),
    ]
}

fn run_on(query: &str, events: &[Event]) -> Vec<Row> {
    let pipeline = spl::parse(query).unwrap_or_else(|e| panic!("parse {query:?}: {e}"));
    spl::run(&pipeline, events, NOW).unwrap_or_else(|e| panic!("run {query:?}: {e}"))
}

fn run(query: &str) -> Vec<Row> {
    run_on(query, &events())
}

fn get<'a>(row: &'a Row, field: &str) -> Option<&'a str> {
    row.get(field).and_then(Value::first)
}

fn column<'a>(rows: &'a [Row], field: &str) -> Vec<&'a str> {
    rows.iter().map(|r| get(r, field).unwrap_or("-")).collect()
}

fn multi(values: &[&str]) -> Value {
    Value::Multi(values.iter().map(|v| v.to_string()).collect())
}

#[test]
fn bin_time_span_five_minutes() {
    let rows = run("* | bin _time span=5m | stats count by _time");
    // T+0, +30, +90 fall in [T, T+300); +400 in [T+300, T+600); +700 in [T+600, T+900).
    assert_eq!(
        column(&rows, "_time"),
        vec!["1702166400", "1702166700", "1702167000"]
    );
    assert_eq!(column(&rows, "count"), vec!["3", "1", "1"]);
}

#[test]
fn bucket_alias_one_hour() {
    let rows = run("* | bucket _time span=1h | stats count by _time");
    assert_eq!(column(&rows, "_time"), vec!["1702166400"]);
    assert_eq!(column(&rows, "count"), vec!["5"]);
}

#[test]
fn bin_numeric_field_as_range() {
    let rows = run("* | bin bytes span=100 as range | table user bytes range");
    // Newest first: 75, 1000, 50, 250, 100.
    assert_eq!(
        column(&rows, "range"),
        vec!["0-100", "1000-1100", "0-100", "200-300", "100-200"]
    );
    assert_eq!(
        column(&rows, "bytes"),
        vec!["75", "1000", "50", "250", "100"]
    );
}

#[test]
fn timechart_count_per_span() {
    let rows = run("* | timechart span=5m count");
    assert_eq!(
        column(&rows, "_time"),
        vec!["1702166400", "1702166700", "1702167000"]
    );
    assert_eq!(column(&rows, "count"), vec!["3", "1", "1"]);
}

#[test]
fn timechart_fills_empty_bins_with_zero() {
    // alice at +0, +90 and +700: nothing in [T+300, T+600).
    let rows = run("user=alice | timechart span=5m count");
    assert_eq!(column(&rows, "count"), vec!["2", "0", "1"]);
}

#[test]
fn timechart_count_by_user() {
    let rows = run("* | timechart span=5m count by user");
    let columns: Vec<_> = rows[0].keys().map(String::as_str).collect();
    assert_eq!(columns, vec!["_time", "alice", "bob", "carol"]);
    assert_eq!(column(&rows, "alice"), vec!["2", "0", "1"]);
    assert_eq!(column(&rows, "bob"), vec!["1", "0", "0"]);
    assert_eq!(column(&rows, "carol"), vec!["0", "1", "0"]);
}

#[test]
fn timechart_sum_over_ten_minutes() {
    let rows = run("* | timechart span=10m sum(bytes) as total");
    // [T, T+600): 100 + 250 + 50 + 1000 = 1400; [T+600, T+1200): 75.
    assert_eq!(column(&rows, "total"), vec!["1400", "75"]);
}

#[test]
fn timechart_max_leaves_empty_bins_empty() {
    let rows = run("user=alice | timechart span=5m max(bytes)");
    assert_eq!(get(&rows[0], "max(bytes)"), Some("100"));
    assert_eq!(get(&rows[1], "max(bytes)"), None);
    assert_eq!(get(&rows[2], "max(bytes)"), Some("75"));
}

#[test]
fn timechart_limit_moves_rest_to_other() {
    // Totals: alice 3, bob 1, carol 1; limit=1 keeps alice.
    let rows = run("* | timechart span=5m limit=1 count by user");
    let columns: Vec<_> = rows[0].keys().map(String::as_str).collect();
    assert_eq!(columns, vec!["_time", "alice", "OTHER"]);
    assert_eq!(column(&rows, "alice"), vec!["2", "0", "1"]);
    assert_eq!(column(&rows, "OTHER"), vec!["1", "1", "0"]);
}

#[test]
fn timechart_useother_false_drops_rest() {
    let rows = run("* | timechart span=5m limit=1 useother=f count by user");
    let columns: Vec<_> = rows[0].keys().map(String::as_str).collect();
    assert_eq!(columns, vec!["_time", "alice"]);
}

#[test]
fn transaction_by_user_with_maxspan() {
    let rows = run("* | transaction user maxspan=2m");
    // alice +0 and +90 are 90 s apart (within 120 s); alice +700 starts another.
    assert_eq!(rows.len(), 4);
    assert_eq!(
        column(&rows, "user"),
        vec!["alice", "carol", "bob", "alice"]
    );
    assert_eq!(column(&rows, "eventcount"), vec!["1", "1", "1", "2"]);
    let first = &rows[3];
    assert_eq!(get(first, "_time"), Some("1702166400"));
    assert_eq!(get(first, "duration"), Some("90"));
    assert_eq!(first.get("action"), Some(&multi(&["login", "logout"])));
    let raw = "login user=alice src=10.0.0.1 bytes=100\nlogout Alice from 10.0.0.1 bytes=50";
    assert_eq!(get(first, "_raw"), Some(raw));
}

#[test]
fn transaction_maxpause_splits_gaps() {
    // alice's +0 and +90 are 90 s apart, over maxpause=1m: five transactions.
    let rows = run("* | transaction user maxpause=1m");
    assert_eq!(rows.len(), 5);
}

#[test]
fn transaction_maxevents_caps_size() {
    let rows = run("* | transaction user maxevents=1");
    assert_eq!(column(&rows, "eventcount"), vec!["1", "1", "1", "1", "1"]);
}

#[test]
fn fillnull_value_for_missing_field() {
    let rows = run("* | table user dept | fillnull value=NA dept");
    assert_eq!(column(&rows, "dept"), vec!["NA"; 5]);
    let rows = run("* | table user dept | fillnull dept");
    assert_eq!(column(&rows, "dept"), vec!["0"; 5]);
}

#[test]
fn fields_keeps_listed_and_internal() {
    let rows = run("* | fields user, bytes");
    let columns: Vec<_> = rows[0].keys().map(String::as_str).collect();
    assert_eq!(columns, vec!["_time", "_raw", "user", "bytes"]);
    let rows = run("* | fields - _raw src action");
    assert!(!rows[0].contains_key("_raw"));
    assert!(!rows[0].contains_key("src"));
    assert!(rows[0].contains_key("bytes"));
}

#[test]
fn rename_field_and_wildcard() {
    // The `*` of `s*` takes "rc" from "src".
    let rows = run("* | rename user AS account, s* AS x_* | table account x_rc src");
    assert_eq!(get(&rows[0], "account"), Some("alice"));
    assert_eq!(get(&rows[0], "x_rc"), Some("10.0.0.1"));
    assert_eq!(get(&rows[0], "src"), None);
}

#[test]
fn tail_returns_last_rows_reversed() {
    // Rows are newest first (+700 ... +0); the last two are +0 then +30.
    let rows = run("* | tail 2");
    assert_eq!(column(&rows, "bytes"), vec!["100", "250"]);
}

#[test]
fn top_counts_and_percent() {
    let rows = run("* | top user");
    assert_eq!(rows.len(), 3);
    assert_eq!(get(&rows[0], "user"), Some("alice"));
    assert_eq!(get(&rows[0], "count"), Some("3"));
    // 3 of 5 is 60 percent.
    assert_eq!(get(&rows[0], "percent"), Some("60"));
}

#[test]
fn rare_puts_least_common_first() {
    let rows = run("* | rare user");
    assert_eq!(rows.len(), 3);
    assert_eq!(get(&rows[2], "user"), Some("alice"));
    assert_eq!(get(&rows[0], "count"), Some("1"));
    assert_eq!(get(&rows[0], "percent"), Some("20"));
}

fn lookup_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let table = "user,dept,manager\nalice,finance,\"Smith, J\"\nbob,it,\nalice,audit,Lee\n";
    std::fs::write(dir.path().join("users.csv"), table).unwrap();
    dir
}

fn run_with_lookups(query: &str, dir: &std::path::Path) -> Result<Vec<Row>, spl::SplError> {
    let context = RunContext {
        now: NOW,
        lookup_dir: Some(dir.to_path_buf()),
    };
    spl::run_with(&spl::parse(query).unwrap(), &events(), &context)
}

#[test]
fn lookup_output_field() {
    let dir = lookup_folder();
    let rows =
        run_with_lookups("* | lookup users user OUTPUT dept | dedup user", dir.path()).unwrap();
    assert_eq!(column(&rows, "user"), vec!["alice", "carol", "bob"]);
    // alice matches two table rows.
    assert_eq!(rows[0].get("dept"), Some(&multi(&["finance", "audit"])));
    assert_eq!(get(&rows[1], "dept"), None);
    assert_eq!(get(&rows[2], "dept"), Some("it"));
}

#[test]
fn lookup_renamed_fields_and_empty_values() {
    let dir = lookup_folder();
    let query =
        "* | rename user AS account | lookup users.csv user AS account OUTPUT manager AS boss";
    let rows = run_with_lookups(query, dir.path()).unwrap();
    assert_eq!(rows[0].get("boss"), Some(&multi(&["Smith, J", "Lee"])));
    // bob's manager cell is empty, so bob gets no boss.
    let bob = rows
        .iter()
        .find(|r| get(r, "account") == Some("bob"))
        .unwrap();
    assert_eq!(get(bob, "boss"), None);
}

#[test]
fn lookup_without_output_adds_all_columns() {
    let dir = lookup_folder();
    let rows = run_with_lookups("user=bob | lookup users user", dir.path()).unwrap();
    assert_eq!(get(&rows[0], "dept"), Some("it"));
    assert!(!rows[0].contains_key("manager"));
}

#[test]
fn lookup_outputnew_keeps_existing() {
    let dir = lookup_folder();
    let query = "user=bob | eval dept=\"sales\" | lookup users user OUTPUTNEW dept";
    let rows = run_with_lookups(query, dir.path()).unwrap();
    assert_eq!(get(&rows[0], "dept"), Some("sales"));
}

#[test]
fn lookup_errors_name_the_problem() {
    let err = spl::run(
        &spl::parse("* | lookup users user").unwrap(),
        &events(),
        NOW,
    )
    .unwrap_err();
    assert_eq!(err.kind, SplErrorKind::InvalidArgument);
    assert!(err.message.contains("lookup"), "{}", err.message);
    let dir = lookup_folder();
    let err = run_with_lookups("* | lookup hosts host", dir.path()).unwrap_err();
    assert!(err.message.contains("not found"), "{}", err.message);
    let err = run_with_lookups("* | lookup users login", dir.path()).unwrap_err();
    assert!(err.message.contains("no column 'login'"), "{}", err.message);
}

#[test]
fn in_list_search_and_where() {
    assert_eq!(run("user IN (bob, CAROL)").len(), 2);
    // eval compares text case-sensitively, so "CAROL" does not match carol.
    assert_eq!(run("* | where user IN (\"bob\", \"CAROL\")").len(), 1);
}

#[test]
fn terms_match_case_insensitively() {
    // "login" and "LOGIN" match; "logout" does not.
    assert_eq!(run("login").len(), 4);
    assert_eq!(run("alice").len(), 3);
}

#[test]
fn case_directive_matches_case() {
    assert_eq!(run("CASE(login)").len(), 3);
    assert_eq!(run("CASE(Alice)").len(), 1);
}

#[test]
fn term_directive_needs_major_breakers() {
    // Only "from 10.0.0.1 bytes" has spaces around the address; "src=10.0.0.1" has '='.
    assert_eq!(run("10.0.0.1").len(), 3);
    assert_eq!(run("TERM(10.0.0.1)").len(), 1);
    assert_eq!(run("TERM(user=alice)").len(), 2);
}

#[test]
fn earliest_snaps_to_hour() {
    // NOW - 24h is T + 420 s; @h snaps it to T, so every event is inside.
    assert_eq!(run("earliest=-24h@h").len(), 5);
    // Without the snap only the +700 event is at or after T + 420.
    assert_eq!(run("earliest=-24h").len(), 1);
    assert_eq!(run("earliest=-24h@h latest=-1d@d").len(), 0);
}

fn with_groups() -> Vec<Event> {
    let mut events = events();
    events[0]
        .fields
        .insert("group".into(), multi(&["admins", "users"]));
    events[1]
        .fields
        .insert("group".into(), Value::from("users"));
    events
}

#[test]
fn multivalue_search_any_value() {
    assert_eq!(run_on("group=admins", &with_groups()).len(), 1);
    assert_eq!(run_on("group=users", &with_groups()).len(), 2);
    assert_eq!(
        run_on("* | where group=\"admins\"", &with_groups()).len(),
        1
    );
}

#[test]
fn multivalue_stats_by_splits_values() {
    let rows = run_on("* | stats count by group", &with_groups());
    assert_eq!(column(&rows, "group"), vec!["admins", "users"]);
    assert_eq!(column(&rows, "count"), vec!["1", "2"]);
}

#[test]
fn multivalue_values_and_list() {
    let rows = run("* | stats values(user) as users list(user) as all");
    assert_eq!(
        rows[0].get("users"),
        Some(&multi(&["alice", "bob", "carol"]))
    );
    // list keeps row order, newest first.
    assert_eq!(
        rows[0].get("all"),
        Some(&multi(&["alice", "carol", "alice", "bob", "alice"]))
    );
}

#[test]
fn multivalue_eval_functions() {
    let query = "* | head 1 | eval n=mvcount(group), second=mvindex(group, 1), \
                 last=mvindex(group, -1), joined=mvjoin(group, \";\"), \
                 found=mvfind(group, \"^u\"), both=mvappend(group, \"guests\")";
    let rows = run_on(query, &with_groups());
    assert_eq!(get(&rows[0], "n"), Some("2"));
    assert_eq!(get(&rows[0], "second"), Some("users"));
    assert_eq!(get(&rows[0], "last"), Some("users"));
    assert_eq!(get(&rows[0], "joined"), Some("admins;users"));
    assert_eq!(get(&rows[0], "found"), Some("1"));
    assert_eq!(
        rows[0].get("both"),
        Some(&multi(&["admins", "users", "guests"]))
    );
}

#[test]
fn stats_spread_range_mode() {
    let rows = run("* | stats var(bytes) as v varp(bytes) as vp range(bytes) as r mode(user) as m");
    // Mean of 100, 250, 50, 1000, 75 is 295; squared deviations sum to 645500.
    assert_eq!(get(&rows[0], "v"), Some("161375")); // 645500 / 4
    assert_eq!(get(&rows[0], "vp"), Some("129100")); // 645500 / 5
    assert_eq!(get(&rows[0], "r"), Some("950")); // 1000 - 50
    assert_eq!(get(&rows[0], "m"), Some("alice"));
    let rows = run("* | stats stdev(bytes) as s");
    let s: f64 = get(&rows[0], "s").unwrap().parse().unwrap();
    assert!((s - 161_375f64.sqrt()).abs() < 1e-9, "{s}");
}

/// Evaluates `expression` on the oldest event (alice, bytes=100, src=10.0.0.1).
fn eval_one(expression: &str) -> Option<String> {
    let rows = run(&format!("* | tail 1 | eval x={expression}"));
    get(&rows[0], "x").map(str::to_string)
}

#[test]
fn eval_arithmetic_and_concat() {
    let cases = [
        ("bytes*2+1", "201"),
        ("bytes/8", "12.5"),
        ("bytes%7", "2"), // 100 = 14 * 7 + 2
        ("-bytes+1", "-99"),
        ("user.\"-\".bytes", "alice-100"),
        ("round(2.567, 2)", "2.57"),
        ("floor(2.7)", "2"),
        ("ceil(2.1)", "3"),
        ("pow(2, 10)", "1024"),
        ("sqrt(16)", "4"),
        ("abs(-3)", "3"),
    ];
    for (expression, expected) in cases {
        assert_eq!(
            eval_one(expression).as_deref(),
            Some(expected),
            "{expression}"
        );
    }
}

#[test]
fn eval_comparison_and_conditions() {
    let cases = [
        // "100" > "99" only as numbers.
        ("if(bytes > 99, \"num\", \"text\")", "num"),
        ("if(bytes >= 100 AND user != \"bob\", 1, 0)", "1"),
        ("if(bytes > 50, \"big\", \"small\")", "big"),
        (
            "case(bytes < 50, \"s\", bytes < 150, \"m\", true(), \"l\")",
            "m",
        ),
        ("coalesce(missing, user)", "alice"),
        ("if(like(user, \"al%\"), 1, 0)", "1"),
        ("if(user LIKE \"b_b\", 1, 0)", "0"),
        (r#"if(match(src, "^10\.0\."), 1, 0)"#, "1"),
        ("if(isnull(missing), \"null\", \"set\")", "null"),
        ("if(isnotnull(user), \"yes\", \"no\")", "yes"),
        ("if(isnull(tonumber(\"abc\")), \"null\", \"num\")", "null"),
    ];
    for (expression, expected) in cases {
        assert_eq!(
            eval_one(expression).as_deref(),
            Some(expected),
            "{expression}"
        );
    }
}

#[test]
fn eval_text_functions() {
    let cases = [
        ("lower(\"MiXeD\")", "mixed"),
        ("upper(user)", "ALICE"),
        ("len(user)", "5"),
        ("substr(user, 2, 3)", "lic"),
        ("substr(user, -3)", "ice"),
        ("mvcount(split(src, \".\"))", "4"),
        ("mvindex(split(src, \".\"), 3)", "1"),
        ("mvjoin(split(src, \".\"), \"-\")", "10-0-0-1"),
        ("tonumber(\"0x1F\", 16)", "31"),
        ("tonumber(\"12\") + 1", "13"),
        ("tostring(bytes * 2)", "200"),
        ("tostring(1234567, \"commas\")", "1,234,567"),
        ("tostring(3725, \"duration\")", "01:02:05"), // 3600 + 2 * 60 + 5
        ("tostring(255, \"hex\")", "0xFF"),
    ];
    for (expression, expected) in cases {
        assert_eq!(
            eval_one(expression).as_deref(),
            Some(expected),
            "{expression}"
        );
    }
}

#[test]
fn eval_time_functions() {
    let cases = [
        ("strftime(0, \"%Y-%m-%d %H:%M:%S\")", "1970-01-01 00:00:00"),
        ("strftime(_time, \"%d/%b/%Y %a\")", "10/Dec/2023 Sun"),
        ("strftime(1.25, \"%S.%3N\")", "01.250"),
        // One hour after T.
        (
            "strptime(\"2023-12-10 01:00:00\", \"%Y-%m-%d %H:%M:%S\")",
            "1702170000",
        ),
        ("strptime(\"2023-12-10\", \"%Y-%m-%d\")", "1702166400"),
        // 00:00:01 at +01:00 is 23:00:01 UTC the day before: T + 1 - 3600.
        (
            "strptime(\"10/Dec/2023:00:00:01 +0100\", \"%d/%b/%Y:%H:%M:%S %z\")",
            "1702162801",
        ),
        // T + 12 h snapped to the day before's midnight: T - 86400.
        ("relative_time(1702209600, \"-1d@d\")", "1702080000"),
        ("relative_time(_time, \"+1h\")", "1702170000"),
        ("now()", "1702253220"), // T + 86400 + 420
    ];
    for (expression, expected) in cases {
        assert_eq!(
            eval_one(expression).as_deref(),
            Some(expected),
            "{expression}"
        );
    }
    assert_eq!(eval_one("strptime(\"junk\", \"%Y\")"), None);
}
