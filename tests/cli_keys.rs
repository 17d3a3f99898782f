//! `argus key` and keyring lookups from the command line. Every run sets
//! `ARGUS_KEYRING=off`, so no test reads or writes the machine's keyring.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const SECRET: &str = "gk-cli-test-7c2e";

/// Builds an `argus` command with the keyring off and no provider variables
/// inherited from the caller's environment.
fn argus(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_argus"));
    command.args(args).env("ARGUS_KEYRING", "off");
    for variable in [
        "LLM_PROVIDER",
        "GEMINI_API_KEY",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "OPENAI_BASE_URL",
    ] {
        command.env_remove(variable);
    }
    command
}

fn run_with_input(mut command: Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn key_status_lists_origin() {
    let output = argus(&["key", "status"])
        .env("GEMINI_API_KEY", SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");

    let lines: Vec<&str> = stdout.lines().collect();
    let off = "; keyring not read: ARGUS_KEYRING is off";
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(
        lines[0],
        format!("gemini: key from the environment (GEMINI_API_KEY){off}")
    );
    assert_eq!(
        lines[1],
        format!("openai: no key; set OPENAI_API_KEY{off}"),
        "`argus key set` fails while the keyring is off, so it is not suggested"
    );
    assert!(lines[2].starts_with("anthropic: no key"), "{stdout}");
    assert!(
        lines[3].starts_with("openai-compatible: no key"),
        "{stdout}"
    );
}

#[test]
fn key_status_hides_key() {
    let output = argus(&["key", "status"])
        .env("GEMINI_API_KEY", SECRET)
        .env("ANTHROPIC_API_KEY", SECRET)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(!String::from_utf8_lossy(&output.stdout).contains(SECRET));
    assert!(!String::from_utf8_lossy(&output.stderr).contains(SECRET));
}

#[test]
fn key_set_without_keyring_names_variable() {
    let output = run_with_input(argus(&["key", "set", "gemini"]), &format!("{SECRET}\n"));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("cannot store the gemini key"), "{stderr}");
    assert!(stderr.contains("keyring is turned off"), "{stderr}");
    assert!(
        stderr.contains("set GEMINI_API_KEY in the environment"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");
}

#[test]
fn key_set_rejects_empty_input() {
    let output = run_with_input(argus(&["key", "set", "openai"]), "\n");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("no key on standard input"), "{stderr}");
}

#[test]
fn key_set_takes_no_key_argument() {
    let output = argus(&["key", "set", "gemini", SECRET]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("unexpected argument"), "{stderr}");
}

#[test]
fn key_set_rejects_none() {
    let output = argus(&["key", "set", "none"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("invalid value 'none'"), "{stderr}");
}

#[test]
fn key_delete_without_keyring_fails() {
    let output = argus(&["key", "delete", "anthropic"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("cannot delete the anthropic key"),
        "{stderr}"
    );
}

#[test]
fn investigate_missing_key_names_both() {
    let output = argus(&["investigate", "--format", "json"])
        .env("LLM_PROVIDER", "gemini,openai")
        .env("GEMINI_API_KEY", SECRET)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("LLM_PROVIDER=openai needs an API key"),
        "{stderr}"
    );
    assert!(stderr.contains("set OPENAI_API_KEY"), "{stderr}");
    assert!(stderr.contains("argus key set openai"), "{stderr}");
}

#[test]
fn invalid_keyring_setting_rejected() {
    let output = argus(&["key", "status"])
        .env("ARGUS_KEYRING", "maybe")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("invalid ARGUS_KEYRING 'maybe'"), "{stderr}");
}
