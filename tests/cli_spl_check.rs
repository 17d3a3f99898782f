//! `argus spl check`: one verdict or error per non-blank input line, tagged with its line number.

use std::process::Command;

/// Runs `argus spl check FILE` over `text` and returns the exit code, stdout lines and stderr.
fn spl_check(text: &str) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queries.txt");
    std::fs::write(&path, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_argus"))
        .args(["spl", "check"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let records = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (output.status.code(), records, String::from_utf8(output.stderr).unwrap())
}

#[test]
fn spl_check_continues_past_malformed_line() {
    let text = "\
index=main sshd | stats count by host

index=main | delete
{\"search\": \"index=main | head 5\"}
{\"search\": 5}
index=main | collect index=copy
index=main | table _time host
{\"search\": \"index=main | outputlookup x.csv\"}
{\"search\": \"index=main
index=main | stats count
";
    let (code, records, stderr) = spl_check(text);

    let lines: Vec<u64> = records.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [1, 3, 4, 5, 6, 7, 8, 9, 10], "blank line 2 is skipped, the rest numbered");
    let verdicts: Vec<&str> = records.iter().map(|r| r["verdict"].as_str().unwrap()).collect();
    let expected = ["allow", "refuse", "allow", "error", "refuse", "allow", "refuse", "error", "allow"];
    assert_eq!(verdicts, expected);
    assert!(records[3]["reason"].as_str().unwrap().contains("\"search\" string"), "{}", records[3]);
    assert!(records[7]["reason"].as_str().unwrap().contains("invalid JSON"), "{}", records[7]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("rejected 3 and could not read 2 of 9 queries"), "{stderr}");
}

#[test]
fn spl_check_all_allowed_succeeds() {
    let (code, records, stderr) = spl_check("index=main | head 1\n\n{\"search\": \"index=main\"}\n");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["line"], 3);
    assert_eq!(records[1]["verdict"], "allow");
}
