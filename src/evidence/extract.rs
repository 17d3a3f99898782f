//! Search-time field extraction from an event's `_raw` text: key=value pairs
//! on every event, and Splunk CIM-style authentication fields from sshd and
//! sudo messages on `linux_secure` events.
//!
//! A field the event already has is never overwritten. The sshd and sudo
//! fields are taken first, so `user` comes from the message wording rather
//! than from a `user=` pair elsewhere on the line.

use indexmap::IndexMap;
use memchr::{memchr, memmem};

use crate::event::{Event, Value};

type Fields = IndexMap<String, Value>;

/// Adds every field this module extracts from `event.raw` to `event.fields`.
pub(crate) fn apply(event: &mut Event) {
    let Event {
        raw,
        fields,
        sourcetype,
        ..
    } = event;
    let mut found = Found {
        existing: fields,
        pairs: Vec::new(),
    };
    if sourcetype == "linux_secure" {
        if let Some(message) = program_message(raw, "sshd") {
            found.add("app", "sshd");
            sshd_fields(message, &mut found);
        } else if let Some(message) = program_message(raw, "sudo") {
            found.add("app", "sudo");
            sudo_fields(message, &mut found);
        }
    }
    key_values(raw, &mut found);

    // Collecting borrowed pairs first lets the map grow once, to the exact size.
    let pairs = found.pairs;
    fields.reserve_exact(pairs.len());
    for (name, value) in pairs {
        fields.insert(name.to_string(), Value::Single(value.to_string()));
    }
}

/// Fields found in one event's raw text and not yet stored, borrowed from the text.
struct Found<'f, 'r> {
    existing: &'f Fields,
    pairs: Vec<(&'r str, &'r str)>,
}

impl<'r> Found<'_, 'r> {
    /// Keeps a field unless the event or an earlier find already has that
    /// name, or the value is empty.
    fn add(&mut self, name: &'r str, value: &'r str) {
        let present =
            self.existing.contains_key(name) || self.pairs.iter().any(|(n, _)| *n == name);
        if !value.is_empty() && !present {
            self.pairs.push((name, value));
        }
    }
}

/// Returns the message after `program[pid]: ` or `program: ` in `raw`.
/// `sshd` also matches `sshd-session`, the process name of OpenSSH 9.8 and later.
fn program_message<'a>(raw: &'a str, program: &str) -> Option<&'a str> {
    let bytes = raw.as_bytes();
    let mut from = 0;
    while let Some(found) = memmem::find(&bytes[from..], program.as_bytes()) {
        let start = from + found;
        let mut end = start + program.len();
        from = end;
        if start > 0 && bytes[start - 1] != b' ' {
            continue;
        }
        if raw[end..].starts_with("-session") {
            end += "-session".len();
        }
        let after = &raw[end..];
        let after = match after.strip_prefix('[') {
            Some(pid) => &pid[memchr(b']', pid.as_bytes())? + 1..],
            None => after,
        };
        if let Some(message) = after.strip_prefix(": ") {
            return Some(message);
        }
    }
    None
}

/// Extracts `action`, `user`, `src_ip`, `src_port`, `invalid_user`,
/// `auth_method` and `repeat_count` from one sshd message.
fn sshd_fields<'r>(message: &'r str, found: &mut Found<'_, 'r>) {
    let message = message.strip_prefix("error: ").unwrap_or(message);
    if let Some(rest) = message.strip_prefix("message repeated ") {
        if let Some((count, inner)) = rest.split_once(" times: [") {
            found.add("repeat_count", count);
            let inner = inner.trim_start().trim_end_matches(']').trim_end();
            sshd_fields(inner, found);
        }
        return;
    }
    if let Some(rest) = message.strip_prefix("Accepted ") {
        login_attempt(rest, "success", found);
    } else if let Some(rest) = message.strip_prefix("Failed ") {
        login_attempt(rest, "failure", found);
    } else if let Some(rest) = message.strip_prefix("Invalid user ") {
        found.add("action", "failure");
        found.add("invalid_user", "true");
        user_from_address(rest, found);
    } else if let Some(rest) = message.strip_prefix("input_userauth_request: invalid user ") {
        found.add("invalid_user", "true");
        found.add("user", rest.trim_end_matches(" [preauth]"));
    } else if message.starts_with("pam_unix(sshd:auth): authentication failure;")
        || message.starts_with("PAM ") && message.contains(" more authentication failure")
    {
        found.add("action", "failure");
        pam_fields(message, found);
    } else if let Some(rest) = message.strip_prefix("pam_unix(sshd:session): session ") {
        let user = rest.split_once(" for user ").map(|(_, user)| user);
        let user = user.map(|u| u.split(' ').next().unwrap_or(u));
        found.add("user", user.unwrap_or(""));
    } else if let Some(rest) = message.strip_prefix("reverse mapping checking getaddrinfo for ") {
        let address = rest.split_once(" [").and_then(|(_, a)| a.split_once(']'));
        found.add("src_ip", address.map_or("", |(ip, _)| ip));
    } else {
        connection_fields(message, found);
    }
}

/// Reads `METHOD for [invalid user ]USER from IP port N ssh2`.
fn login_attempt<'r>(rest: &'r str, action: &'static str, found: &mut Found<'_, 'r>) {
    let Some((method, target)) = rest.split_once(" for ") else {
        return;
    };
    found.add("action", action);
    found.add("auth_method", method);
    match target.strip_prefix("invalid user ") {
        Some(target) => {
            found.add("invalid_user", "true");
            user_from_address(target, found);
        }
        None => {
            found.add("invalid_user", "false");
            user_from_address(target, found);
        }
    }
}

/// Reads `USER from IP[ port N]...`. The last ` from ` splits, because a
/// user name chosen by an attacker may itself contain spaces or "from".
fn user_from_address<'r>(text: &'r str, found: &mut Found<'_, 'r>) {
    let Some((user, address)) = text.rsplit_once(" from ") else {
        found.add("user", text.trim());
        return;
    };
    found.add("user", user.trim());
    address_and_port(address, found);
}

/// Reads `IP[ port N]...` or `IP: ...` into `src_ip` and `src_port`.
fn address_and_port<'r>(text: &'r str, found: &mut Found<'_, 'r>) {
    let (ip, rest) = text.split_once(' ').unwrap_or((text, ""));
    // Older OpenSSH writes `from 1.2.3.4: 11: Bye`; the colon ends the address.
    let ip = if rest.is_empty() || !rest.starts_with("port ") {
        ip.strip_suffix(':').unwrap_or(ip)
    } else {
        ip
    };
    found.add("src_ip", ip);
    if let Some(port) = rest.strip_prefix("port ") {
        let port = port.split([' ', ':']).next().unwrap_or("");
        found.add("src_port", port);
    }
}

/// Reads `rhost=` and `user=USER` from a pam_unix failure message. An
/// `rhost` that is a host name rather than an address becomes `src_host`.
fn pam_fields<'r>(message: &'r str, found: &mut Found<'_, 'r>) {
    for pair in message.split_whitespace() {
        if let Some(host) = pair.strip_prefix("rhost=") {
            let is_address = host.parse::<std::net::IpAddr>().is_ok();
            found.add(if is_address { "src_ip" } else { "src_host" }, host);
        } else if let Some(user) = pair.strip_prefix("user=") {
            found.add("user", user);
        }
    }
}

/// Reads the address of disconnect and closed-connection messages.
fn connection_fields<'r>(message: &'r str, found: &mut Found<'_, 'r>) {
    const PREFIXES: [&str; 4] = [
        "Received disconnect from ",
        "Connection closed by ",
        "Disconnected from ",
        "Did not receive identification string from ",
    ];
    let Some(rest) = PREFIXES
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
    else {
        return;
    };
    // Newer OpenSSH releases name the user: `closed by invalid user bob 1.2.3.4 port 22`.
    for marker in ["authenticating user ", "invalid user ", "user "] {
        if let Some(named) = rest.strip_prefix(marker) {
            if let Some((user, address)) = named.split_once(' ') {
                if marker == "invalid user " {
                    found.add("invalid_user", "true");
                }
                found.add("user", user);
                address_and_port(address, found);
                return;
            }
        }
    }
    address_and_port(rest, found);
}

/// Reads `USER : TTY=pts/0 ; PWD=/home/u ; USER=root ; COMMAND=/bin/ls` and
/// the failure forms (`incorrect password attempts`, `user NOT in sudoers`).
fn sudo_fields<'r>(message: &'r str, found: &mut Found<'_, 'r>) {
    let Some((user, details)) = message.split_once(" : ") else {
        return;
    };
    found.add("user", user.trim());
    for part in details.split(" ; ") {
        let part = part.trim();
        if let Some(run_as) = part.strip_prefix("USER=") {
            found.add("run_as", run_as);
        } else if let Some(command) = part.strip_prefix("COMMAND=") {
            found.add("command", command);
        } else if part.contains("incorrect password attempt") || part.contains("NOT in sudoers") {
            found.add("action", "failure");
        }
    }
    // `add` keeps the first action, so a failure found above stays.
    if details.contains("COMMAND=") {
        found.add("action", "success");
    }
}

/// Adds every `key=value` and `key="quoted value"` pair of `raw`.
///
/// Keys are made of letters, digits, `_`, `.` and `-`. Leading `_`, `.` and
/// `-` are trimmed, so a pair never names an internal field such as `_time`.
/// An unquoted value ends at whitespace or at one of `,;&")]`, and empty
/// values are skipped.
fn key_values<'r>(raw: &'r str, found: &mut Found<'_, 'r>) {
    let bytes = raw.as_bytes();
    // An `=` inside a value already taken (`msg="a=b"`) starts no new pair.
    let mut value_end = 0;
    for equals in memchr::memchr_iter(b'=', bytes) {
        if equals < value_end {
            continue;
        }
        let key_start = bytes[..equals]
            .iter()
            .rposition(|&b| !is_key_byte(b))
            .map_or(0, |at| at + 1);
        let key = raw[key_start..equals].trim_start_matches(['_', '.', '-']);
        if key.is_empty() {
            continue;
        }
        let (value, consumed) = pair_value(&raw[equals + 1..]);
        value_end = equals + 1 + consumed;
        if !value.is_empty() {
            found.add(key, value);
        }
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-'
}

/// Returns the value at the start of `text` and the bytes it spans, quotes included.
fn pair_value(text: &str) -> (&str, usize) {
    if let Some(quoted) = text.strip_prefix('"') {
        return match memchr(b'"', quoted.as_bytes()) {
            Some(end) => (&quoted[..end], end + 2),
            None => ("", 0),
        };
    }
    let end = text
        .bytes()
        .position(|b| {
            b.is_ascii_whitespace() || matches!(b, b',' | b';' | b'&' | b'"' | b')' | b']')
        })
        .unwrap_or(text.len());
    (&text[..end], end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract(raw: &str, sourcetype: &str, fields: Fields) -> Fields {
        let mut event = Event {
            time: 0,
            raw: raw.to_string(),
            host: "LabSZ".into(),
            source: "auth.log".into(),
            sourcetype: sourcetype.into(),
            index: "main".into(),
            fields,
        };
        apply(&mut event);
        event.fields
    }

    fn sshd(message: &str) -> Fields {
        let raw = format!("Dec 10 06:55:46 LabSZ sshd[24200]: {message}");
        extract(&raw, "linux_secure", Fields::new())
    }

    fn get<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
        fields.get(name).and_then(Value::first)
    }

    #[test]
    fn accepted_publickey_fields() {
        let f = sshd("Accepted publickey for alice from 10.0.0.5 port 50022 ssh2: RSA SHA256:x");
        assert_eq!(get(&f, "action"), Some("success"));
        assert_eq!(get(&f, "auth_method"), Some("publickey"));
        assert_eq!(get(&f, "user"), Some("alice"));
        assert_eq!(get(&f, "src_ip"), Some("10.0.0.5"));
        assert_eq!(get(&f, "src_port"), Some("50022"));
        assert_eq!(get(&f, "invalid_user"), Some("false"));
        assert_eq!(get(&f, "app"), Some("sshd"));
    }

    #[test]
    fn failed_invalid_user_fields() {
        let f = sshd("Failed password for invalid user admin from 103.99.0.122 port 52683 ssh2");
        assert_eq!(get(&f, "action"), Some("failure"));
        assert_eq!(get(&f, "user"), Some("admin"));
        assert_eq!(get(&f, "invalid_user"), Some("true"));
        assert_eq!(get(&f, "src_ip"), Some("103.99.0.122"));
        assert_eq!(get(&f, "src_port"), Some("52683"));
    }

    #[test]
    fn invalid_user_line_fields() {
        let f = sshd("Invalid user webmaster from 173.234.31.186");
        assert_eq!(get(&f, "user"), Some("webmaster"));
        assert_eq!(get(&f, "invalid_user"), Some("true"));
        assert_eq!(get(&f, "src_ip"), Some("173.234.31.186"));
        assert_eq!(get(&f, "src_port"), None);
    }

    #[test]
    fn pam_failure_fields() {
        let f = sshd(
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh \
             ruser= rhost=183.62.140.253  user=root",
        );
        assert_eq!(get(&f, "action"), Some("failure"));
        assert_eq!(get(&f, "src_ip"), Some("183.62.140.253"));
        assert_eq!(get(&f, "user"), Some("root"));
        assert_eq!(get(&f, "rhost"), Some("183.62.140.253"));
        assert_eq!(get(&f, "logname"), None);
    }

    #[test]
    fn disconnect_and_close_fields() {
        let f = sshd("Received disconnect from 183.62.140.253: 11: Bye Bye [preauth]");
        assert_eq!(get(&f, "src_ip"), Some("183.62.140.253"));
        let f = sshd("Connection closed by 5.188.10.180 [preauth]");
        assert_eq!(get(&f, "src_ip"), Some("5.188.10.180"));
        let f = sshd("Connection closed by authenticating user root 1.2.3.4 port 2200 [preauth]");
        assert_eq!(get(&f, "user"), Some("root"));
        assert_eq!(get(&f, "src_ip"), Some("1.2.3.4"));
        assert_eq!(get(&f, "src_port"), Some("2200"));
    }

    #[test]
    fn repeated_message_fields() {
        let f = sshd(
            "message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]",
        );
        assert_eq!(get(&f, "repeat_count"), Some("5"));
        assert_eq!(get(&f, "action"), Some("failure"));
        assert_eq!(get(&f, "user"), Some("root"));
        assert_eq!(get(&f, "src_ip"), Some("5.36.59.76"));
        assert_eq!(get(&f, "src_port"), Some("42393"));
    }

    #[test]
    fn reverse_mapping_source_address() {
        let f = sshd(
            "reverse mapping checking getaddrinfo for ns.example.com [173.234.31.186] failed \
             - POSSIBLE BREAK-IN ATTEMPT!",
        );
        assert_eq!(get(&f, "src_ip"), Some("173.234.31.186"));
    }

    #[test]
    fn session_opened_user() {
        let f = sshd("pam_unix(sshd:session): session opened for user fztu by (uid=0)");
        assert_eq!(get(&f, "user"), Some("fztu"));
        assert_eq!(get(&f, "uid"), Some("0"));
    }

    #[test]
    fn sudo_command_fields() {
        let mut event = Event {
            time: 0,
            raw: "Jan  5 10:00:00 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; \
                  USER=root ; COMMAND=/bin/ls -la /root"
                .into(),
            host: "web1".into(),
            source: "auth.log".into(),
            sourcetype: "linux_secure".into(),
            index: "main".into(),
            fields: Fields::new(),
        };
        apply(&mut event);
        let f = &event.fields;
        assert_eq!(get(f, "user"), Some("alice"));
        assert_eq!(get(f, "run_as"), Some("root"));
        assert_eq!(get(f, "command"), Some("/bin/ls -la /root"));
        assert_eq!(get(f, "app"), Some("sudo"));
        assert_eq!(get(f, "PWD"), Some("/home/alice"));
    }

    #[test]
    fn key_values_quoted_and_plain() {
        let raw = r#"a=1 msg="two k=v" empty= _time=5 x.y-z=ok, b="open"#;
        let fields = extract(raw, "syslog", Fields::new());
        assert_eq!(get(&fields, "a"), Some("1"));
        assert_eq!(get(&fields, "msg"), Some("two k=v"));
        assert_eq!(get(&fields, "k"), None);
        assert_eq!(get(&fields, "empty"), None);
        assert_eq!(get(&fields, "time"), Some("5"));
        assert_eq!(get(&fields, "x.y-z"), Some("ok"));
        assert_eq!(get(&fields, "b"), None);
    }

    #[test]
    fn key_values_keep_existing_field() {
        let mut existing = Fields::new();
        existing.insert("user".into(), Value::from("kept"));
        let fields = extract("user=other user=again", "syslog", existing);
        assert_eq!(get(&fields, "user"), Some("kept"));
    }
}
