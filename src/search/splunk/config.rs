//! Settings of the Splunk backend, read from the environment.
//!
//! A bad value stops start-up with a message naming the variable, the value
//! and what is accepted. Secrets (the token and the password) are redacted
//! from `Debug` output so they never reach a log.

use std::fmt;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use crate::config::ConfigError;

/// How the backend proves who it is.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `SPLUNK_TOKEN`: an authentication token, sent as `Authorization: Bearer`.
    Token(String),
    /// `SPLUNK_USERNAME` and `SPLUNK_PASSWORD`, exchanged for a session key
    /// at `/services/auth/login`.
    Password { username: String, password: String },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
            Credentials::Password { username, .. } => {
                write!(f, "Password {{ username: {username:?}, password: <redacted> }}")
            }
        }
    }
}

/// How the server's TLS certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsVerification {
    /// Against the system's web PKI roots, or `ca_file` when set
    /// (`SPLUNK_CA_FILE`, PEM).
    Verify { ca_file: Option<PathBuf> },
    /// `SPLUNK_CERT_SHA256`: the SHA-256 of the server certificate's DER
    /// encoding, the only certificate accepted, whoever issued it.
    Pinned { sha256: [u8; 32] },
    /// `SPLUNK_VERIFY_TLS=false`: any certificate is accepted, which lets anyone
    /// on the network path read the token; logged as a warning every time a
    /// client is built.
    Disabled,
}

/// Where and how to reach Splunk's management port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplunkSettings {
    /// `SPLUNK_SCHEME`: `https` (default) or `http`.
    pub scheme: String,
    /// `SPLUNK_HOST` (default `localhost`).
    pub host: String,
    /// `SPLUNK_PORT` (default 8089).
    pub port: u16,
    pub credentials: Credentials,
    /// `SPLUNK_INDEX`: the index the agent's queries search; `None` searches
    /// the token's default indexes.
    pub index: Option<String>,
    pub tls: TlsVerification,
    /// `SPL_TIME_WINDOW`: how far back searches look, as Splunk's
    /// `earliest_time` (`-24h`); `None` (the value `0`) searches all time.
    pub time_window: Option<String>,
    /// `SPLUNK_SEARCH_TIMEOUT`: seconds one search may take, retries included.
    pub search_timeout: Duration,
    /// `SPLUNK_INVESTIGATION_TIMEOUT`: seconds all searches of one
    /// investigation may take together.
    pub investigation_timeout: Duration,
    /// `SPLUNK_MAX_CONCURRENT_SEARCHES`: searches running at once (default 4).
    pub max_concurrent_searches: NonZeroUsize,
    /// `SPLUNK_RETRIES`: extra attempts for a retryable failure (default 3).
    pub retries: u32,
    /// Pause before the first retry; doubled before each later one.
    pub backoff: Duration,
}

impl SplunkSettings {
    /// Reads settings from the process environment.
    pub fn from_env() -> Result<SplunkSettings, ConfigError> {
        SplunkSettings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, which returns a variable's value if set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let scheme = match get("SPLUNK_SCHEME").as_deref() {
            None | Some("https") => "https".to_string(),
            Some("http") => "http".to_string(),
            Some(other) => return Err(invalid("SPLUNK_SCHEME", other, "expected https or http")),
        };
        Ok(SplunkSettings {
            scheme,
            host: get("SPLUNK_HOST").unwrap_or_else(|| "localhost".into()),
            port: parse_number(get("SPLUNK_PORT"), "SPLUNK_PORT", 8089u16, "a port from 1 to 65535")?,
            credentials: credentials(&get)?,
            index: get("SPLUNK_INDEX"),
            tls: tls(&get)?,
            time_window: time_window(get("SPL_TIME_WINDOW"))?,
            search_timeout: seconds(&get, "SPLUNK_SEARCH_TIMEOUT", 120)?,
            investigation_timeout: seconds(&get, "SPLUNK_INVESTIGATION_TIMEOUT", 900)?,
            max_concurrent_searches: parse_number(
                get("SPLUNK_MAX_CONCURRENT_SEARCHES"),
                "SPLUNK_MAX_CONCURRENT_SEARCHES",
                NonZeroUsize::new(4).expect("4 is not zero"),
                "a whole number of at least 1",
            )?,
            retries: parse_number(get("SPLUNK_RETRIES"), "SPLUNK_RETRIES", 3u32, "a whole number")?,
            backoff: Duration::from_millis(500),
        })
    }

    /// Base URL of the management port, such as `https://localhost:8089`.
    pub fn base_url(&self) -> String {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{}://{}:{}", self.scheme, host, self.port)
    }
}

fn invalid(variable: &'static str, value: &str, expected: &str) -> ConfigError {
    ConfigError { variable, value: value.to_string(), expected: expected.to_string() }
}

fn parse_number<T: std::str::FromStr>(
    value: Option<String>,
    variable: &'static str,
    default: T,
    accepted: &str,
) -> Result<T, ConfigError> {
    match value {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| invalid(variable, &text, &format!("expected {accepted}"))),
    }
}

fn seconds(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u32,
) -> Result<Duration, ConfigError> {
    let default = NonZeroU32::new(default).expect("defaults are not zero");
    let value = parse_number(get(variable), variable, default, "a whole number of seconds, at least 1")?;
    Ok(Duration::from_secs(u64::from(value.get())))
}

fn credentials(get: &impl Fn(&str) -> Option<String>) -> Result<Credentials, ConfigError> {
    if let Some(token) = get("SPLUNK_TOKEN") {
        return Ok(Credentials::Token(token));
    }
    match (get("SPLUNK_USERNAME"), get("SPLUNK_PASSWORD")) {
        (Some(username), Some(password)) => Ok(Credentials::Password { username, password }),
        (Some(_), None) => Err(invalid(
            "SPLUNK_PASSWORD",
            "",
            "set SPLUNK_PASSWORD to the password of SPLUNK_USERNAME, or set SPLUNK_TOKEN instead",
        )),
        _ => Err(invalid(
            "SPLUNK_TOKEN",
            "",
            "set SPLUNK_TOKEN to an authentication token, or set SPLUNK_USERNAME and \
             SPLUNK_PASSWORD",
        )),
    }
}

fn tls(get: &impl Fn(&str) -> Option<String>) -> Result<TlsVerification, ConfigError> {
    let verify = match get("SPLUNK_VERIFY_TLS").map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("true" | "1" | "yes") => true,
        Some("false" | "0" | "no") => false,
        Some(other) => {
            return Err(invalid("SPLUNK_VERIFY_TLS", other, "expected true or false"));
        }
    };
    if let Some(pin) = get("SPLUNK_CERT_SHA256") {
        let sha256 = parse_fingerprint(&pin).ok_or_else(|| {
            invalid(
                "SPLUNK_CERT_SHA256",
                &pin,
                "expected 64 hexadecimal digits, optionally separated by ':'",
            )
        })?;
        return Ok(TlsVerification::Pinned { sha256 });
    }
    if !verify {
        return Ok(TlsVerification::Disabled);
    }
    Ok(TlsVerification::Verify { ca_file: get("SPLUNK_CA_FILE").map(PathBuf::from) })
}

/// Parses a SHA-256 fingerprint written as hex, with or without colons
/// (as `openssl x509 -fingerprint -sha256` prints it).
pub fn parse_fingerprint(text: &str) -> Option<[u8; 32]> {
    let hex: String = text.chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(bytes)
}

fn time_window(value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(value) = value else { return Ok(None) };
    if value == "0" {
        return Ok(None);
    }
    let pattern = regex::Regex::new(r"^-\d+(s|m|h|d|w|mon|y)(@(s|m|h|d|w|mon|y))?$")
        .expect("time window pattern is valid");
    if pattern.is_match(&value) {
        Ok(Some(value))
    } else {
        Err(invalid(
            "SPL_TIME_WINDOW",
            &value,
            "expected 0 for all time, or a relative time such as -24h, -7d or -30d@d",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<SplunkSettings, ConfigError> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        SplunkSettings::from_lookup(move |name| {
            pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_apply() {
        let s = settings(&[("SPLUNK_TOKEN", "t")]).unwrap();
        assert_eq!(s.base_url(), "https://localhost:8089");
        assert_eq!(s.tls, TlsVerification::Verify { ca_file: None });
        assert_eq!(s.time_window, None);
        assert_eq!(s.max_concurrent_searches.get(), 4);
        assert_eq!(s.search_timeout, Duration::from_secs(120));
    }

    #[test]
    fn missing_credentials_named() {
        let err = settings(&[]).unwrap_err();
        assert_eq!(err.variable, "SPLUNK_TOKEN");
    }

    #[test]
    fn missing_token_message() {
        for pairs in [&[][..], &[("SPLUNK_TOKEN", "")][..], &[("SPLUNK_TOKEN", "  ")][..]] {
            let message = settings(pairs).unwrap_err().to_string();
            assert!(message.starts_with("missing SPLUNK_TOKEN: "), "{message}");
            assert!(!message.contains("invalid"), "{message}");
            assert!(message.contains("SPLUNK_USERNAME and SPLUNK_PASSWORD"), "{message}");
        }
    }

    #[test]
    fn missing_password_message() {
        let message = settings(&[("SPLUNK_USERNAME", "admin")]).unwrap_err().to_string();
        assert!(message.starts_with("missing SPLUNK_PASSWORD: "), "{message}");
        assert!(message.contains("SPLUNK_TOKEN"), "{message}");
    }

    #[test]
    fn password_login_read() {
        let s = settings(&[("SPLUNK_USERNAME", "admin"), ("SPLUNK_PASSWORD", "pw")]).unwrap();
        let expected = Credentials::Password { username: "admin".into(), password: "pw".into() };
        assert_eq!(s.credentials, expected);
    }

    #[test]
    fn debug_redacts_secrets() {
        let token = settings(&[("SPLUNK_TOKEN", "s3cr3t-token")]).unwrap();
        assert!(!format!("{token:?}").contains("s3cr3t-token"));
        let login = settings(&[("SPLUNK_USERNAME", "admin"), ("SPLUNK_PASSWORD", "hunter2")]);
        let text = format!("{:?}", login.unwrap());
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("admin"), "{text}");
    }

    #[test]
    fn bad_port_named() {
        let err = settings(&[("SPLUNK_TOKEN", "t"), ("SPLUNK_PORT", "80a")]).unwrap_err();
        assert_eq!(err.variable, "SPLUNK_PORT");
        assert!(err.to_string().contains("\"80a\""), "{err}");
    }

    #[test]
    fn verify_false_disables() {
        let s = settings(&[("SPLUNK_TOKEN", "t"), ("SPLUNK_VERIFY_TLS", "false")]).unwrap();
        assert_eq!(s.tls, TlsVerification::Disabled);
    }

    #[test]
    fn verify_typo_rejected() {
        let err = settings(&[("SPLUNK_TOKEN", "t"), ("SPLUNK_VERIFY_TLS", "flase")]).unwrap_err();
        assert_eq!(err.variable, "SPLUNK_VERIFY_TLS");
    }

    #[test]
    fn pin_parsed_with_colons() {
        let pin = ["ab"; 32].join(":");
        let s = settings(&[("SPLUNK_TOKEN", "t"), ("SPLUNK_CERT_SHA256", &pin)]).unwrap();
        assert_eq!(s.tls, TlsVerification::Pinned { sha256: [0xab; 32] });
    }

    #[test]
    fn short_pin_rejected() {
        let err = settings(&[("SPLUNK_TOKEN", "t"), ("SPLUNK_CERT_SHA256", "abcd")]).unwrap_err();
        assert_eq!(err.variable, "SPLUNK_CERT_SHA256");
    }

    #[test]
    fn time_window_forms() {
        let s = settings(&[("SPLUNK_TOKEN", "t"), ("SPL_TIME_WINDOW", "-24h")]).unwrap();
        assert_eq!(s.time_window.as_deref(), Some("-24h"));
        let all = settings(&[("SPLUNK_TOKEN", "t"), ("SPL_TIME_WINDOW", "0")]).unwrap();
        assert_eq!(all.time_window, None);
        let err = settings(&[("SPLUNK_TOKEN", "t"), ("SPL_TIME_WINDOW", "yesterday")]).unwrap_err();
        assert_eq!(err.variable, "SPL_TIME_WINDOW");
    }
}
