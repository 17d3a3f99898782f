//! End-to-end runs of the SPL engine over hand-built events.

use argus::event::{Event, Row, Value};
use argus::spl::{self, SplErrorKind};
use indexmap::IndexMap;

const SECOND: i64 = 1_000_000;
/// The clock for relative times: 60 seconds after the first event.
const NOW: i64 = 1_702_191_400 * SECOND;

fn event(secs: i64, sourcetype: &str, raw: &str, fields: &[(&str, &str)]) -> Event {
    let fields: IndexMap<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect();
    Event {
        time: secs * SECOND,
        raw: raw.to_string(),
        host: "web01".into(),
        source: "/var/log/test".into(),
        sourcetype: sourcetype.into(),
        index: "main".into(),
        fields,
    }
}

/// Five sshd events and three web events, newest first.
fn events() -> Vec<Event> {
    let t0 = 1_702_191_340;
    let ssh = "linux_secure";
    let web = "access_combined";
    let mut events = vec![
        event(
            t0,
            ssh,
            "sshd[1]: Failed password for root from 183.62.140.253 port 40000 ssh2",
            &[("user", "root"), ("src_ip", "183.62.140.253")],
        ),
        event(
            t0 + 5,
            ssh,
            "sshd[2]: Failed password for admin from 183.62.140.253 port 40001 ssh2",
            &[("user", "admin"), ("src_ip", "183.62.140.253")],
        ),
        event(
            t0 + 10,
            ssh,
            "sshd[3]: Failed password for root from 183.62.140.253 port 40002 ssh2",
            &[("user", "root"), ("src_ip", "183.62.140.253")],
        ),
        event(
            t0 + 30,
            ssh,
            "sshd[4]: Failed password for invalid user oracle from 5.101.40.81 port 5000 ssh2",
            &[("user", "oracle"), ("src_ip", "5.101.40.81")],
        ),
        event(
            t0 + 40,
            ssh,
            "sshd[5]: Accepted password for bob from 10.0.0.5 port 6000 ssh2",
            &[("user", "bob"), ("src_ip", "10.0.0.5")],
        ),
        event(
            t0 + 41,
            web,
            "10.0.0.7 - - \"GET /index.php HTTP/1.1\" 200 1043",
            &[
                ("clientip", "10.0.0.7"),
                ("status", "200"),
                ("bytes", "1043"),
            ],
        ),
        event(
            t0 + 42,
            web,
            "10.0.0.7 - - \"GET /admin HTTP/1.1\" 404 512",
            &[
                ("clientip", "10.0.0.7"),
                ("status", "404"),
                ("bytes", "512"),
            ],
        ),
        event(
            t0 + 43,
            web,
            "192.168.1.20 - - \"POST /login HTTP/1.1\" 500 99",
            &[
                ("clientip", "192.168.1.20"),
                ("status", "500"),
                ("bytes", "99"),
            ],
        ),
    ];
    events.reverse();
    events
}

fn run(query: &str) -> Vec<Row> {
    let pipeline = spl::parse(query).unwrap_or_else(|e| panic!("parse {query:?}: {e}"));
    spl::run(&pipeline, &events(), NOW).unwrap_or_else(|e| panic!("run {query:?}: {e}"))
}

fn get<'a>(row: &'a Row, field: &str) -> Option<&'a str> {
    row.get(field).and_then(Value::first)
}

#[test]
fn failed_logins_counted_by_user() {
    let rows = run(
        r#"sourcetype=linux_secure "Failed password" src_ip="183.62.140.253" | stats count by user | sort -count"#,
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(get(&rows[0], "user"), Some("root"));
    assert_eq!(get(&rows[0], "count"), Some("2"));
    assert_eq!(get(&rows[1], "user"), Some("admin"));
    assert_eq!(get(&rows[1], "count"), Some("1"));
}

#[test]
fn search_results_newest_first() {
    let rows = run("sourcetype=linux_secure Failed");
    let times: Vec<_> = rows
        .iter()
        .map(|r| get(r, "_time").unwrap().to_string())
        .collect();
    assert_eq!(
        times,
        vec!["1702191370", "1702191350", "1702191345", "1702191340"]
    );
}

#[test]
fn eval_where_table_on_web_errors() {
    let rows = run(
        "sourcetype=access_combined | eval kb=bytes/1024 | where status>=400 | table clientip status kb",
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(get(&rows[0], "status"), Some("500"));
    // 99 / 1024 = 0.0966796875 exactly in binary floating point.
    assert_eq!(get(&rows[0], "kb"), Some("0.0966796875"));
    assert_eq!(get(&rows[1], "kb"), Some("0.5"));
    let columns: Vec<_> = rows[1].keys().cloned().collect();
    assert_eq!(columns, vec!["clientip", "status", "kb"]);
}

#[test]
fn stats_dc_values_count() {
    let rows =
        run("sourcetype=linux_secure | stats dc(src_ip) as sources values(user) as users count");
    assert_eq!(rows.len(), 1);
    assert_eq!(get(&rows[0], "sources"), Some("3"));
    assert_eq!(get(&rows[0], "count"), Some("5"));
    let users = Value::Multi(vec![
        "admin".into(),
        "bob".into(),
        "oracle".into(),
        "root".into(),
    ]);
    assert_eq!(rows[0].get("users"), Some(&users));
}

#[test]
fn earliest_relative_window() {
    // NOW - 30s is t0 + 30, so the oracle and bob events are inside.
    let rows = run("earliest=-30s sourcetype=linux_secure | table user");
    let users: Vec<_> = rows.iter().map(|r| get(r, "user").unwrap()).collect();
    assert_eq!(users, vec!["bob", "oracle"]);
}

#[test]
fn not_and_or_combine() {
    let rows = run("sourcetype=linux_secure NOT user=root (user=admin OR user=BOB) | table user");
    let users: Vec<_> = rows.iter().map(|r| get(r, "user").unwrap()).collect();
    assert_eq!(users, vec!["bob", "admin"]);
}

#[test]
fn rex_then_stats_by_extracted_ip() {
    let rows = run(
        r#"sourcetype=linux_secure | rex "from (?<ip>\d+\.\d+\.\d+\.\d+)" | stats count by ip"#,
    );
    let pairs: Vec<_> = rows
        .iter()
        .map(|r| (get(r, "ip").unwrap(), get(r, "count").unwrap()))
        .collect();
    // Dotted quads are not numbers, so groups sort as text.
    assert_eq!(
        pairs,
        vec![
            ("10.0.0.5", "1"),
            ("183.62.140.253", "3"),
            ("5.101.40.81", "1")
        ]
    );
}

#[test]
fn top_user_with_percent() {
    let rows = run("sourcetype=linux_secure | top limit=1 user");
    assert_eq!(rows.len(), 1);
    assert_eq!(get(&rows[0], "user"), Some("root"));
    assert_eq!(get(&rows[0], "count"), Some("2"));
    assert_eq!(get(&rows[0], "percent"), Some("40"));
}

#[test]
fn cidrmatch_in_where() {
    let rows = run(r#"index=main | where cidrmatch("10.0.0.0/8", clientip) | dedup clientip"#);
    assert_eq!(rows.len(), 1);
    assert_eq!(get(&rows[0], "clientip"), Some("10.0.0.7"));
}

#[test]
fn unsupported_command_named_with_position() {
    let query = "sourcetype=linux_secure | eventstats count by user";
    let err = spl::run(&spl::parse(query).unwrap(), &events(), NOW).unwrap_err();
    assert_eq!(err.kind, SplErrorKind::UnsupportedCommand);
    assert_eq!(err.position, 26);
    assert!(err.message.contains("'eventstats'"), "{}", err.message);
    assert!(err.message.contains("stats"), "{}", err.message);
}

#[test]
fn unsupported_function_named() {
    let query = "sourcetype=linux_secure | eval x=md5(user)";
    let err = spl::run(&spl::parse(query).unwrap(), &events(), NOW).unwrap_err();
    assert_eq!(err.kind, SplErrorKind::UnsupportedFunction);
    assert!(err.message.contains("'md5'"), "{}", err.message);
    assert_eq!(err.position, 33);
}

#[test]
fn term_search_and_stats_on_many_events_is_fast() {
    let mut many = Vec::with_capacity(100_000);
    for i in 0..100_000i64 {
        let (word, user) = if i % 10 == 0 {
            ("Failed", "root")
        } else {
            ("Accepted", "bob")
        };
        let raw = format!(
            "sshd[{i}]: {word} password for {user} from 10.1.{}.{} port 22",
            i % 250,
            i % 200
        );
        many.push(event(
            1_700_000_000 + i,
            "linux_secure",
            &raw,
            &[("user", user)],
        ));
    }
    let pipeline = spl::parse(r#""failed password" | stats count by user"#).unwrap();
    let started = std::time::Instant::now();
    let rows = spl::run(&pipeline, &many, NOW).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(rows.len(), 1);
    assert_eq!(get(&rows[0], "count"), Some("10000"));
    eprintln!("term search and stats over 100000 events: {elapsed:?}");
    assert!(elapsed.as_secs_f64() < 1.0, "took {elapsed:?}");
}
