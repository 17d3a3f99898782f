use super::*;

fn refusal(query: &str) -> Refusal {
    match check(query) {
        Err(refusal) => refusal,
        Ok(()) => panic!("query was allowed: {query}"),
    }
}

fn denied_name(query: &str) -> String {
    match refusal(query) {
        Refusal::Denied { command, .. } => command,
        other => panic!("expected a denied command in {query:?}, got: {other}"),
    }
}

#[test]
fn check_allows_plain_search() {
    assert_eq!(check("sourcetype=linux_secure action=failure | stats count by src_ip"), Ok(()));
}

#[test]
fn inspect_lists_canonical_commands() {
    let verdict = inspect("search x | bucket _time span=1h | stats count by _time");
    assert!(verdict.is_allowed());
    assert_eq!(verdict.commands, vec!["search", "bin", "stats"]);
}

#[test]
fn inspect_lists_subsearch_commands() {
    let verdict = inspect("search a [search b | fields src] | table a");
    assert_eq!(verdict.commands, vec!["search", "search", "fields", "table"]);
}

#[test]
fn check_denies_collect() {
    assert_eq!(denied_name("search x | collect index=summary"), "collect");
}

#[test]
fn check_names_alias_and_command() {
    let message = refusal("search x | summaryindex index=summary").to_string();
    assert!(message.contains("'summaryindex'"), "{message}");
    assert!(message.contains("alias of collect"), "{message}");
}

#[test]
fn check_rejects_unknown_command() {
    let refusal = refusal("search x | ut_shannon domain");
    assert_eq!(refusal, Refusal::NotAllowed { command: "ut_shannon".into() });
}

#[test]
fn check_rejects_unknown_macro() {
    let refusal = refusal("`sysmon` EventCode=1");
    assert_eq!(refusal, Refusal::Macro(MacroError::Unknown { name: "sysmon".into() }));
}

#[test]
fn check_expands_known_macros() {
    let query = "| tstats `security_content_summariesonly` count from datamodel=Endpoint.Processes \
                 by Processes.dest | `drop_dm_object_name(Processes)` \
                 | `security_content_ctime(firstTime)` | `my_detection_filter`";
    let verdict = inspect(query);
    assert_eq!(verdict.refusal, None);
    assert_eq!(verdict.commands, vec!["tstats", "rename", "convert", "search"]);
}

#[test]
fn record_has_verdict_reason_commands() {
    let record = inspect("search x | outputlookup bad.csv").to_record();
    assert_eq!(record.verdict, "refuse");
    assert!(record.reason.contains("outputlookup"), "{}", record.reason);
    let allowed = inspect("search x").to_record();
    assert_eq!(allowed.verdict, "allow");
    assert_eq!(allowed.reason, "");
    assert_eq!(allowed.commands, vec!["search"]);
}

/// Queries that try to hide a command with side effects, and the command
/// (as written) the refusal must name.
const HIDDEN_WRITES: &[(&str, &str)] = &[
    // Case.
    ("search x | COLLECT index=summary", "collect"),
    ("search x | OutputLookup x.csv", "outputlookup"),
    // Aliases.
    ("search x | run evil.py", "run"),
    ("search x | summaryindex index=s", "summaryindex"),
    // Subsearches, at any depth and in any command.
    ("search x [search y | outputlookup x.csv]", "outputlookup"),
    ("search x [search y [search z | sendemail to=a@b.c]]", "sendemail"),
    ("search x | join src [| inputlookup a.csv | outputcsv dump]", "outputcsv"),
    ("search x | append [| makeresults | delete]", "delete"),
    ("search x | appendpipe [collect index=summary]", "collect"),
    ("search x | foreach * [sendalert risk]", "sendalert"),
    ("search x [inputlookup a.csv | tscollect namespace=n]", "tscollect"),
    // Commands that run other searches.
    ("search x | map search=\"search y | collect index=s\"", "map"),
    ("search x | map maxsearches=5 search=\"| delete\"", "map"),
    ("| savedsearch \"Nightly cleanup\"", "savedsearch"),
    ("| loadjob savedsearch=admin:search:cleanup", "loadjob"),
    ("| rest /services/authentication/users", "rest"),
    ("| dbxquery connection=hr query=\"select * from t\"", "dbxquery"),
    // Comments: Splunk drops them before it parses, even inside quotes.
    ("search x ```a comment``` | mcollect index=m", "mcollect"),
    ("search x=\"```\" | meventcollect index=m | search y=\"```\"", "meventcollect"),
    // Quotes that only one reading honours.
    ("search x | eval a='|' | script evil", "script"),
    ("search x | eval y='a | runshellscript x.sh 1'", "runshellscript"),
    // Escapes: a backslash before a pipe does not hide the next command.
    ("search x \\| dbxoutput output=o", "dbxoutput"),
    ("search \"a\\\"\" | dump basefilename=x", "dump"),
    // Remaining writers and senders.
    ("search x | outputtext", "outputtext"),
    ("search x | fit LinearRegression y from x into model", "fit"),
    ("| makeresults | sendemail to=a@example.com", "sendemail"),
];

#[test]
fn adversarial_writes_refused() {
    for (query, command) in HIDDEN_WRITES {
        let verdict = inspect(query);
        let Some(refusal) = verdict.refusal else {
            panic!("allowed a hidden write: {query}");
        };
        let message = refusal.to_string();
        assert!(message.contains(&format!("'{command}'")), "{query}: {message}");
    }
}

/// Queries that look dangerous but only read, or are rejected for a reason
/// other than a named command.
#[test]
fn quoted_phrase_is_not_a_command() {
    assert_eq!(check("search \"| collect index=summary\""), Ok(()));
}

#[test]
fn macro_hiding_a_command_refused() {
    assert!(matches!(refusal("search x | `cleanup`"), Refusal::Macro(_)));
}

#[test]
fn macro_inside_quotes_still_expanded() {
    // Splunk expands macros inside quoted strings too.
    assert!(matches!(refusal("search x=\"`evil`\""), Refusal::Macro(_)));
}

#[test]
fn unterminated_comment_refused() {
    let refusal = refusal("search x ``` | collect index=s");
    assert!(matches!(refusal, Refusal::UnterminatedComment { position: 9 }), "{refusal}");
}

#[test]
fn subsearch_bare_command_word_refused() {
    let refusal = refusal("search x [customcmd arg]");
    assert_eq!(refusal, Refusal::SubsearchHead { word: "customcmd".into() });
}

#[test]
fn subsearch_search_terms_allowed() {
    assert_eq!(check("search x [search host=a | fields host]"), Ok(()));
    assert_eq!(check("search x [host=a | fields host]"), Ok(()));
}

#[test]
fn syntax_error_refused() {
    assert!(matches!(refusal("search x | "), Refusal::Syntax(_)));
    assert!(matches!(refusal("search \"open"), Refusal::Syntax(_)));
}

#[test]
fn guard_survives_random_input() {
    // A fixed-seed generator over SPL's special characters and command names:
    // the guard must return a verdict, never panic, on any text.
    let pieces = [
        "|", "[", "]", "`", "```", "\"", "'", "\\", " ", "search", "collect", "eval", "(", ")",
        "=", "x", "map", "`a_filter`", "é", "\n", ",", "!=", "<", "stats count by a",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        let mut query = String::new();
        for _ in 0..(state % 12) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            query.push_str(pieces[(state % pieces.len() as u64) as usize]);
        }
        state = state.wrapping_add(1);
        let _ = inspect(&query);
    }
}
