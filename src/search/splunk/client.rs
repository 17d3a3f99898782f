//! One HTTP exchange with Splunk: log in, run an export search, and map each
//! HTTP failure to a [`SearchError`].

use futures::StreamExt;

use super::export::{is_quota_message, ExportReader, Flow};
use crate::search::{SearchError, SearchResults};

/// Export endpoint of Splunk 9 and later.
pub const EXPORT_V2: &str = "/services/search/v2/jobs/export";
/// Export endpoint of Splunk 8, used when the v2 endpoint returns 404.
pub const EXPORT_V1: &str = "/services/search/jobs/export";
/// Login endpoint that exchanges a username and password for a session key.
pub const LOGIN: &str = "/services/auth/login";

/// Maximum length of a server message kept in an error.
const MAX_MESSAGE: usize = 500;

/// The result of an export request.
pub enum ExportOutcome {
    Results(SearchResults),
    /// The endpoint does not exist on this server (HTTP 404).
    NotFound,
}

/// Posts one search to `url` and reads the export stream.
pub async fn export(
    client: &reqwest::Client,
    url: &str,
    authorization: &str,
    form: &[(&str, &str)],
) -> Result<ExportOutcome, SearchError> {
    let response = client
        .post(url)
        .header(reqwest::header::AUTHORIZATION, authorization)
        .form(form)
        .send()
        .await
        .map_err(network_error)?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(ExportOutcome::NotFound);
    }
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(status_error(status.as_u16(), &body));
    }
    read_stream(response).await.map(ExportOutcome::Results)
}

async fn read_stream(response: reqwest::Response) -> Result<SearchResults, SearchError> {
    let mut reader = ExportReader::default();
    let mut stream = response.bytes_stream();
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            SearchError::Protocol(format!("the export stream was cut: {}", error_chain(&e)))
        })?;
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if reader.push_line(&String::from_utf8_lossy(&line))? == Flow::Done {
                return reader.finish();
            }
        }
    }
    if !pending.is_empty() {
        reader.push_line(&String::from_utf8_lossy(&pending))?;
    }
    reader.finish()
}

/// Exchanges a username and password for a session key.
pub async fn login(
    client: &reqwest::Client,
    base_url: &str,
    username: &str,
    password: &str,
) -> Result<String, SearchError> {
    let form = [("username", username), ("password", password), ("output_mode", "json")];
    let response = client
        .post(format!("{base_url}{LOGIN}"))
        .form(&form)
        .send()
        .await
        .map_err(network_error)?;
    let status = response.status();
    let body = response.text().await.map_err(network_error)?;
    if !status.is_success() {
        return Err(match status.as_u16() {
            400 | 401 => SearchError::Auth(format!(
                "login as {username} was rejected (HTTP {status}); check SPLUNK_USERNAME and \
                 SPLUNK_PASSWORD"
            )),
            code => status_error(code, &body),
        });
    }
    session_key(&body).ok_or_else(|| {
        SearchError::Protocol(format!("login response contains no sessionKey: {}", clip(&body)))
    })
}

/// Reads the session key from a JSON (`{"sessionKey": ...}`) or XML
/// (`<sessionKey>...</sessionKey>`) login response.
pub fn session_key(body: &str) -> Option<String> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body) {
        return json.get("sessionKey").and_then(|k| k.as_str()).map(str::to_string);
    }
    let start = body.find("<sessionKey>")? + "<sessionKey>".len();
    let len = body[start..].find("</sessionKey>")?;
    Some(body[start..start + len].trim().to_string())
}

/// Maps an HTTP error status and its body to a failure.
pub fn status_error(status: u16, body: &str) -> SearchError {
    let message = server_message(body);
    match status {
        401 | 403 => SearchError::Auth(format!(
            "the server answered HTTP {status}: {message}; check SPLUNK_TOKEN, or \
             SPLUNK_USERNAME and SPLUNK_PASSWORD"
        )),
        400 => SearchError::BadQuery(message),
        503 if is_quota_message(&message) => SearchError::Quota(message),
        _ => SearchError::Server { status, message },
    }
}

/// Extracts the text of Splunk's error messages from a JSON or XML body.
fn server_message(body: &str) -> String {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body) {
        let texts: Vec<&str> = json
            .get("messages")
            .and_then(|m| m.as_array())
            .map(|messages| messages.iter().filter_map(|m| m.get("text")?.as_str()).collect())
            .unwrap_or_default();
        if !texts.is_empty() {
            return clip(&texts.join("; "));
        }
    }
    let pattern = regex::Regex::new(r"(?s)<msg[^>]*>(.*?)</msg>").expect("pattern is valid");
    let texts: Vec<&str> = pattern
        .captures_iter(body)
        .filter_map(|c| c.get(1).map(|m| m.as_str().trim()))
        .collect();
    if !texts.is_empty() {
        return clip(&texts.join("; "));
    }
    if body.trim().is_empty() {
        "empty response body".to_string()
    } else {
        clip(body.trim())
    }
}

/// Maps a failed request to a network failure. A failed connection names the
/// address tried and the variables that set it.
pub fn network_error(error: reqwest::Error) -> SearchError {
    let chain = error_chain(&error);
    let address = error.url().map(address_of).unwrap_or_else(|| "Splunk".to_string());
    if error.is_connect() {
        let hint = if chain.to_ascii_lowercase().contains("certificate") {
            "check SPLUNK_CA_FILE or SPLUNK_CERT_SHA256 for Splunk's certificate"
        } else {
            "check that SPLUNK_HOST and SPLUNK_PORT name Splunk's management port \
             (8089 by default)"
        };
        SearchError::Network(format!("connection to {address} failed; {hint}: {chain}"))
    } else if error.is_timeout() {
        SearchError::Network(format!("request to {address} timed out: {chain}"))
    } else {
        SearchError::Network(chain)
    }
}

/// Formats the `host:port` of a URL, with the scheme's default port when it has none.
/// `host_str` keeps the brackets of an IPv6 address.
fn address_of(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The error with its sources, which name the refused connection or the
/// certificate problem that reqwest's own message leaves out.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

fn clip(text: &str) -> String {
    let mut end = text.len().min(MAX_MESSAGE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_key_from_json() {
        assert_eq!(session_key(r#"{"sessionKey":"abc"}"#).as_deref(), Some("abc"));
    }

    #[test]
    fn session_key_from_xml() {
        let body = "<response>\n  <sessionKey>k1</sessionKey>\n</response>";
        assert_eq!(session_key(body).as_deref(), Some("k1"));
    }

    #[test]
    fn quota_503_retryable() {
        let body = r#"<response><messages><msg type="ERROR">The maximum number of concurrent historical searches on this instance has been reached.</msg></messages></response>"#;
        let err = status_error(503, body);
        assert!(matches!(err, SearchError::Quota(ref m) if m.starts_with("The maximum")), "{err}");
    }

    #[test]
    fn unauthorized_is_auth() {
        let body = r#"{"messages":[{"type":"WARN","text":"call not properly authenticated"}]}"#;
        let err = status_error(401, body);
        assert_eq!(err.class(), crate::search::FailureClass::Auth);
        assert!(err.to_string().contains("call not properly authenticated"), "{err}");
    }

    #[test]
    fn bad_request_is_bad_query() {
        let err = status_error(400, r#"{"messages":[{"type":"FATAL","text":"Unknown search command 'x'."}]}"#);
        assert!(matches!(err, SearchError::BadQuery(ref m) if m.contains("'x'")), "{err}");
    }

    #[test]
    fn other_503_is_server() {
        let err = status_error(503, "");
        assert!(matches!(err, SearchError::Server { status: 503, .. }), "{err}");
        assert_eq!(err.class(), crate::search::FailureClass::Retryable);
    }
}
