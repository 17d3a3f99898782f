//! HTTP transport shared by the model providers.
//!
//! Each provider builds its own request body and reads its own response. This
//! module sends the JSON, applies the per-call timeout, classifies failures
//! into [`LlmFailure`] and retries rate limits and server errors with
//! backoff, honouring `Retry-After`. The API key is removed from every error
//! message, because some providers quote the rejected key back. It also contains
//! the steps every provider shares: building the client from its endpoint,
//! turning a parsed answer into a [`ChatResponse`], and encoding a tool call
//! as answer text.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;

use super::config::{CallSettings, EndpointSettings};
use super::{ChatResponse, LlmError, LlmFailure, ModelInfo, Role};

/// Maximum characters of an error body quoted in a message when it has no `error.message`.
const MAX_QUOTED_BODY: usize = 300;

/// The answer text and token counts read from one provider response.
pub(crate) struct ParsedAnswer {
    pub text: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// A reqwest client bound to one provider and its call settings.
pub(crate) struct Transport {
    client: reqwest::Client,
    provider: String,
    secret: Option<String>,
    /// Environment variable that contains the key, named in `Auth` errors.
    key_variable: &'static str,
    settings: CallSettings,
}

impl Transport {
    /// Builds the client for `provider`. The `secret` is redacted from errors,
    /// and `key_variable` is the setting named when the key is rejected.
    pub(crate) fn new(
        provider: &str,
        secret: Option<String>,
        key_variable: &'static str,
        settings: CallSettings,
    ) -> Result<Transport, LlmError> {
        // Several crates may race to install rustls's process-wide provider;
        // any installed provider serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("argus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError {
                provider: provider.to_string(),
                failure: LlmFailure::Unavailable,
                message: format!("failed to build the HTTP client: {e}"),
                retry_after: None,
            })?;
        Ok(Transport {
            client,
            provider: provider.to_string(),
            secret,
            key_variable,
            settings,
        })
    }

    /// Builds the client for `provider` from its endpoint settings.
    pub(crate) fn for_endpoint(
        provider: &str,
        endpoint: &EndpointSettings,
        key_variable: &'static str,
    ) -> Result<Transport, LlmError> {
        let key = endpoint.api_key.clone();
        Transport::new(provider, key, key_variable, endpoint.call)
    }

    /// Posts `body`, reads the answer with `parse`, and builds the response
    /// with the model name found at JSON `model_pointer` (when the provider
    /// sends one) and the time spent, retries included.
    pub(crate) async fn chat(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &Value,
        model_pointer: &str,
        parse: impl FnOnce(&Value) -> Result<ParsedAnswer, LlmError>,
    ) -> Result<ChatResponse, LlmError> {
        let (answer, duration) = self.post_json(url, headers, body).await?;
        let parsed = parse(&answer)?;
        let model = answer
            .pointer(model_pointer)
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(ChatResponse {
            text: parsed.text,
            input_tokens: parsed.input_tokens,
            output_tokens: parsed.output_tokens,
            model,
            duration,
            provider: None,
            failed_providers: Vec::new(),
        })
    }

    /// Builds an error of this provider, with the key redacted.
    pub(crate) fn error(&self, failure: LlmFailure, message: impl Into<String>) -> LlmError {
        let mut message = message.into();
        if let Some(secret) = self.secret.as_deref().filter(|s| !s.is_empty()) {
            message = message.replace(secret, "[redacted]");
        }
        LlmError {
            provider: self.provider.clone(),
            failure,
            message,
            retry_after: None,
        }
    }

    /// Posts `body` to `url` and returns the parsed JSON response and the time
    /// spent, retries included. Only [`LlmFailure::Retryable`] failures are
    /// retried, at most `max_attempts` calls in all.
    pub(crate) async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &Value,
    ) -> Result<(Value, Duration), LlmError> {
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            match self.post_once(url, headers, body).await {
                Err(error)
                    if error.failure == LlmFailure::Retryable
                        && attempt < self.settings.max_attempts.get() =>
                {
                    let pause = self.pause_before_retry(&error, attempt);
                    tracing::warn!(
                        provider = %self.provider,
                        attempt,
                        pause_ms = pause.as_millis() as u64,
                        error = %error.message,
                        "model call failed, retrying"
                    );
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
                Ok(answer) => return Ok((answer, started.elapsed())),
            }
        }
    }

    /// Picks the pause before retry number `attempt`: the server's
    /// `Retry-After` when it sent one, else exponential backoff, both capped.
    fn pause_before_retry(&self, error: &LlmError, attempt: u32) -> Duration {
        let backoff = self
            .settings
            .initial_backoff
            .saturating_mul(1 << (attempt - 1).min(16));
        error
            .retry_after
            .unwrap_or(backoff)
            .min(self.settings.max_retry_wait)
    }

    async fn post_once(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &Value,
    ) -> Result<Value, LlmError> {
        let mut request = self
            .client
            .post(url)
            .timeout(self.settings.timeout)
            .json(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }

        let response = request
            .send()
            .await
            .map_err(|e| self.network_error(url, e))?;
        let status = response.status();
        let header_pause = parse_retry_after(response.headers());
        let text = response
            .text()
            .await
            .map_err(|e| self.network_error(url, e))?;

        if is_html(&text) {
            let failure = match status.is_success() {
                true => LlmFailure::Unavailable,
                false => classify(status),
            };
            return Err(self.error(failure, self.html_message(url, status)));
        }
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| {
                self.error(
                    LlmFailure::Unavailable,
                    format!("response from {url} is not JSON: {e}"),
                )
            });
        }

        let failure = classify(status);
        let mut message = status_message(status, &text);
        if failure == LlmFailure::Auth {
            message.push_str(&format!(
                "; check {}, or the key stored with `argus key set {}`",
                self.key_variable, self.provider
            ));
        }
        let mut error = self.error(failure, message);
        error.retry_after = header_pause.or_else(|| parse_retry_delay(&text));
        Err(error)
    }

    /// Builds the message for an HTML response, which means the base URL points at a web
    /// page, another service or a failing proxy instead of the provider's model API.
    fn html_message(&self, url: &str, status: StatusCode) -> String {
        format!(
            "HTTP {status} from {url}: the server returned an HTML page, so it is not the {} \
             model API (or a proxy in front of it failed); check {} (for OpenAI-compatible \
             servers the base URL usually ends in /v1)",
            self.provider,
            base_url_variable(&self.provider)
        )
    }

    fn network_error(&self, url: &str, error: reqwest::Error) -> LlmError {
        let message = if error.is_timeout() {
            format!(
                "request to {url} timed out after {:?}",
                self.settings.timeout
            )
        } else {
            format!(
                "request to {url} failed: {}; check that the model server at that URL is \
                 running and reachable, and check {}",
                error_causes(&error),
                base_url_variable(&self.provider)
            )
        };
        self.error(LlmFailure::Unavailable, message)
    }
}

/// Names the variable that sets `provider`'s base URL, for error messages.
fn base_url_variable(provider: &str) -> &'static str {
    match provider {
        "gemini" => "GEMINI_BASE_URL",
        "anthropic" => "ANTHROPIC_BASE_URL",
        "openai" => "OPENAI_BASE_URL",
        "openai-compatible" => "OPENAI_COMPATIBLE_BASE_URL (or OPENAI_BASE_URL)",
        _ => "the provider's base URL variable",
    }
}

/// Joins the messages of `error` and its sources, so the message shows the
/// root cause (connection refused, DNS failure, TLS error) that reqwest's
/// own text leaves out. A source whose text is already in the chain is skipped.
fn error_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(cause) = current {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = cause.source();
    }
    parts.join(": ")
}

/// Maps an HTTP error status to how the caller should treat it.
pub(crate) fn classify(status: StatusCode) -> LlmFailure {
    match status.as_u16() {
        401 | 403 => LlmFailure::Auth,
        // 529 is Anthropic's "overloaded"; other 5xx are transient server faults.
        429 | 500..=599 => LlmFailure::Retryable,
        400..=499 => LlmFailure::BadRequest,
        _ => LlmFailure::Unavailable,
    }
}

/// Reads `Retry-After` as whole or fractional seconds.
// NOTE: the HTTP-date form of Retry-After is not parsed, so such responses
// fall back to exponential backoff.
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds: f64 = value.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// Reads Google's `RetryInfo.retryDelay` (for example `"37s"`) from the
/// `error.details` of an error body, which Gemini sends in place of a
/// `Retry-After` header.
fn parse_retry_delay(body: &str) -> Option<Duration> {
    let parsed: Value = serde_json::from_str(body).ok()?;
    let details = parsed.pointer("/error/details")?.as_array()?;
    let delay = details.iter().find_map(|d| d.get("retryDelay")?.as_str())?;
    let seconds: f64 = delay.strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// Returns whether a response body is an HTML document, by its first tag.
fn is_html(body: &str) -> bool {
    let start: String = body.trim_start().chars().take(14).collect();
    let start = start.to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// Builds the message for an error response from the provider's
/// `error.message` (OpenAI, Anthropic and Gemini all use that field), or the
/// start of the body when it has none.
fn status_message(status: StatusCode, body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let detail = parsed
        .as_ref()
        .and_then(|v| v.pointer("/error/message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| body.chars().take(MAX_QUOTED_BODY).collect());
    format!("HTTP {status}: {detail}")
}

/// Returns the value at JSON `pointer`, or an `Unavailable` error naming it.
pub(crate) fn require<'a>(
    transport: &Transport,
    answer: &'a Value,
    pointer: &str,
) -> Result<&'a Value, LlmError> {
    answer
        .pointer(pointer)
        .filter(|v| !v.is_null())
        .ok_or_else(|| {
            transport.error(
                LlmFailure::Unavailable,
                format!("response has no `{pointer}` field"),
            )
        })
}

/// Returns the unsigned integer at JSON `pointer`, or an error naming it.
pub(crate) fn require_count(
    transport: &Transport,
    answer: &Value,
    pointer: &str,
) -> Result<u64, LlmError> {
    require(transport, answer, pointer)?
        .as_u64()
        .ok_or_else(|| {
            let message = format!("response field `{pointer}` is not a token count");
            transport.error(LlmFailure::Unavailable, message)
        })
}

/// Returns whether `base_url` names this machine (a loopback address or
/// `localhost`), so calls to it never leave the host.
pub(crate) fn is_loopback(base_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// Where a provider's model runs, which decides whether masking is on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locality {
    /// A cloud API: remote whatever the base URL, because a loopback proxy
    /// may still forward every prompt to the cloud.
    Cloud,
    /// A self-hosted server: local when its base URL is on loopback.
    ByBaseUrl,
}

/// Describes the model behind `endpoint`.
pub(crate) fn model_info(
    provider: &str,
    endpoint: &EndpointSettings,
    locality: Locality,
) -> ModelInfo {
    let remote = match locality {
        Locality::Cloud => true,
        Locality::ByBaseUrl => !is_loopback(&endpoint.base_url),
    };
    ModelInfo {
        provider: provider.to_string(),
        model: endpoint.model.clone(),
        remote,
    }
}

/// Returns the wire name of `role`; providers differ only in the assistant's name.
pub(crate) fn role_name(role: Role, assistant: &'static str) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => assistant,
    }
}

/// Encodes a tool call as answer text. A call of the requested tool
/// (`expected`) becomes its arguments alone. A call of another tool becomes
/// `{"name": ..., "arguments": ...}`, which the answer parser reads as a tool
/// call, so the caller can still tell which tool the model chose.
pub(crate) fn tool_call_text(expected: Option<&str>, name: &str, arguments: Value) -> String {
    if expected == Some(name) {
        return arguments.to_string();
    }
    serde_json::json!({"name": name, "arguments": arguments}).to_string()
}

/// Joins a base URL and a path with exactly one slash between them.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_statuses() {
        assert_eq!(classify(StatusCode::UNAUTHORIZED), LlmFailure::Auth);
        assert_eq!(classify(StatusCode::FORBIDDEN), LlmFailure::Auth);
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS),
            LlmFailure::Retryable
        );
        assert_eq!(
            classify(StatusCode::from_u16(529).unwrap()),
            LlmFailure::Retryable
        );
        assert_eq!(
            classify(StatusCode::SERVICE_UNAVAILABLE),
            LlmFailure::Retryable
        );
        assert_eq!(classify(StatusCode::BAD_REQUEST), LlmFailure::BadRequest);
        assert_eq!(classify(StatusCode::NOT_FOUND), LlmFailure::BadRequest);
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://127.0.0.1:11434/v1"));
        assert!(is_loopback("http://localhost:8080"));
        assert!(is_loopback("http://[::1]:8000/v1"));
        assert!(!is_loopback("https://api.openai.com/v1"));
        assert!(!is_loopback("not a url"));
    }

    #[test]
    fn retry_after_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(parse_retry_after(&headers), None);
    }

    #[test]
    fn retry_delay_from_body() {
        let body = r#"{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]}}"#;
        assert_eq!(parse_retry_delay(body), Some(Duration::from_secs(37)));
        assert_eq!(parse_retry_delay(r#"{"error": {"message": "x"}}"#), None);
        assert_eq!(parse_retry_delay("not json"), None);
    }

    #[tokio::test]
    async fn refused_connection_names_cause() {
        // Bind then drop a listener, so the port is free and nothing accepts.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = CallSettings {
            max_attempts: std::num::NonZeroU32::new(1).unwrap(),
            ..CallSettings::default()
        };
        let transport = Transport::new("openai", None, "OPENAI_API_KEY", settings).unwrap();
        let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
        let error = transport
            .post_json(&url, &[], &serde_json::json!({}))
            .await
            .unwrap_err();
        let message = error.message.to_lowercase();
        assert!(message.contains("connection refused"), "{message}");
        assert!(message.contains(&url), "{message}");
        assert!(message.contains("check openai_base_url"), "{message}");
    }

    /// Serves one HTTP response with `status_line` and an HTML body on 127.0.0.1, then
    /// returns the error that posting to it gives.
    async fn html_reply_error(status_line: &'static str) -> LlmError {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let _ = socket.read(&mut request).await.unwrap();
            let body = "<!DOCTYPE HTML>\n<html><head><title>Error</title></head></html>\n";
            let reply = format!(
                "HTTP/1.1 {status_line}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(reply.as_bytes()).await.unwrap();
        });
        let settings = CallSettings {
            max_attempts: std::num::NonZeroU32::new(1).unwrap(),
            ..CallSettings::default()
        };
        let transport = Transport::new("openai", None, "OPENAI_API_KEY", settings).unwrap();
        let url = format!("http://127.0.0.1:{port}/chat/completions");
        let error = transport
            .post_json(&url, &[], &serde_json::json!({}))
            .await
            .unwrap_err();
        server.await.unwrap();
        error
    }

    #[tokio::test]
    async fn html_error_names_base_url() {
        let error = html_reply_error("501 Not Implemented").await;
        let message = &error.message;
        assert!(message.contains("HTTP 501 Not Implemented"), "{message}");
        assert!(message.contains("not the openai model API"), "{message}");
        assert!(message.contains("check OPENAI_BASE_URL"), "{message}");
        assert!(message.contains("ends in /v1"), "{message}");
        assert!(!message.contains("<!DOCTYPE"), "{message}");
    }

    #[tokio::test]
    async fn html_success_page_rejected() {
        let error = html_reply_error("200 OK").await;
        assert_eq!(error.failure, LlmFailure::Unavailable);
        assert!(error.message.contains("not the openai model API"), "{}", error.message);
    }

    #[test]
    fn html_detected_by_first_tag() {
        assert!(is_html("  <!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">"));
        assert!(is_html("<html><body>404</body></html>"));
        assert!(!is_html(r#"{"error": {"message": "<html>"}}"#));
        assert!(!is_html("Not Found"));
    }

    #[test]
    fn join_url_single_slash() {
        assert_eq!(
            join_url("http://h/v1/", "/chat/completions"),
            "http://h/v1/chat/completions"
        );
        assert_eq!(join_url("http://h", "v1/messages"), "http://h/v1/messages");
    }
}
