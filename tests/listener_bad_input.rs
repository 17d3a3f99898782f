//! Bad requests: each row is one malformed, oversized, deeply nested,
//! wrongly typed, wrongly encoded or unauthenticated request, or one with a
//! bad path or query parameter, an unknown route or a wrong method, with its
//! expected status. Every response is a JSON error. None may store anything or
//! echo a secret.

mod listener_common;

use axum::body::{Body, Bytes};
use axum::http::{header, Method, Request, StatusCode};
use listener_common::{TestApp, API_TOKEN, HOOK_TOKEN, WEBHOOK_SECRET};
use tower::ServiceExt;

/// How a row authenticates.
#[derive(Clone)]
enum Route {
    /// The webhook route with the right token.
    Hook,
    /// The webhook route with this token in the path.
    HookToken(&'static str),
    /// The bearer route with this Authorization header, if any.
    Bearer(Option<&'static str>),
    /// A GET on an API path with this Authorization header, if any.
    ApiGet(&'static str, Option<&'static str>),
    /// A request with this method on this path, with the API token.
    Api(Method, &'static str),
    /// The webhook route with the right token and a Content-Length header.
    HookWithLength,
}

struct Case {
    name: &'static str,
    route: Route,
    body: Vec<u8>,
    expected: StatusCode,
    /// Text the JSON error message must contain, if any.
    message: Option<&'static str>,
}

fn case(name: &'static str, route: Route, body: impl Into<Vec<u8>>, expected: u16) -> Case {
    Case {
        name,
        route,
        body: body.into(),
        expected: StatusCode::from_u16(expected).unwrap(),
        message: None,
    }
}

impl Case {
    fn saying(mut self, message: &'static str) -> Case {
        self.message = Some(message);
        self
    }
}

const VALID: &str =
    r#"{"sid":"s1","search_name":"SSH Brute Force Detected","result":{"src_ip":"5.101.40.81"}}"#;
/// A value the responses must never contain: it stands for log content.
const RAW_LOG: &str = "hunter2-password-in-log";

fn nested(depth: usize, open: &str, close: &str) -> String {
    format!(
        r#"{{"sid":"s","result":{{"x":{}1{}}}}}"#,
        open.repeat(depth),
        close.repeat(depth)
    )
}

fn many_fields(n: usize) -> String {
    let fields: Vec<String> = (0..n).map(|i| format!(r#""f{i}":"v""#)).collect();
    format!(r#"{{"sid":"s","result":{{{}}}}}"#, fields.join(","))
}

fn many_extra(n: usize) -> String {
    let fields: Vec<String> = (0..n).map(|i| format!(r#""x{i}":1"#)).collect();
    format!(r#"{{"sid":"s",{}}}"#, fields.join(","))
}

fn padded(size: usize) -> String {
    let filler = "a".repeat(size);
    format!(r#"{{"sid":"s","result":{{"_raw":"{filler}"}}}}"#)
}

fn utf16(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

fn cases() -> Vec<Case> {
    use Route::*;
    let bearer_api =
        Some("Bearer a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90");
    let bearer_hook =
        Some("Bearer 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    let basic_secret =
        Some("Basic fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
    let mut latin1 = br#"{"sid":"caf"#.to_vec();
    latin1.extend([0xe9]);
    latin1.extend(br#"","result":{}}"#);
    vec![
        // Unauthenticated: 401.
        case(
            "wrong hook token",
            HookToken("0000000000000000000000000000000000000000000000000000000000000000"),
            VALID,
            401,
        ),
        case(
            "hook token prefix",
            HookToken("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"),
            VALID,
            401,
        ),
        case(
            "hook token with suffix",
            HookToken("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"),
            VALID,
            401,
        ),
        case(
            "hook token upper case",
            HookToken("0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"),
            VALID,
            401,
        ),
        case("hook short token", HookToken("x"), VALID, 401),
        case(
            "hook oversized body bad token",
            HookToken("x"),
            padded(2 * 1024 * 1024),
            401,
        ),
        case("bearer missing header", Bearer(None), VALID, 401),
        case(
            "bearer wrong secret",
            Bearer(Some("Bearer nope")),
            VALID,
            401,
        ),
        case("bearer empty secret", Bearer(Some("Bearer ")), VALID, 401),
        case("bearer basic scheme", Bearer(basic_secret), VALID, 401),
        case("bearer hook token", Bearer(bearer_hook), VALID, 401),
        case("bearer api token", Bearer(bearer_api), VALID, 401),
        case("api without token", ApiGet("/api/alerts", None), "", 401),
        case(
            "api with webhook secret",
            ApiGet(
                "/api/health",
                Some("Bearer fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"),
            ),
            "",
            401,
        ),
        case(
            "api events without token",
            ApiGet("/api/events", None),
            "",
            401,
        ),
        // Malformed or wrongly encoded: 400.
        case("empty body", Hook, "", 400),
        case("not json", Hook, "sid=s1&search_name=x", 400),
        case("truncated json", Hook, r#"{"sid": "s1", "result": {"#, 400),
        case("trailing garbage", Hook, format!("{VALID} extra"), 400),
        case("single quotes", Hook, "{'sid': 's1'}", 400),
        case(
            "nan literal",
            Hook,
            r#"{"sid":"s","result":{"n":NaN}}"#,
            400,
        ),
        case("lone surrogate", Hook, r#"{"sid":"\ud800"}"#, 400),
        case("invalid utf8", Hook, vec![b'{', 0xff, 0xfe, b'}'], 400),
        case("latin1 byte", Hook, latin1, 400),
        case("utf16 body", Hook, utf16(VALID), 400),
        case("arrays nested 100 deep", Hook, nested(100, "[", "]"), 400),
        case(
            "objects nested 20 deep",
            Hook,
            nested(20, r#"{"a":"#, "}"),
            400,
        ),
        case("arrays nested 100000 deep", Hook, "[".repeat(100_000), 400),
        // Wrong shape: 422.
        case("top-level array", Hook, "[]", 422),
        case("top-level string", Hook, r#""alert""#, 422),
        case("top-level number", Hook, "42", 422),
        case("top-level null", Hook, "null", 422),
        case("empty object", Hook, "{}", 422),
        case("empty sid only", Hook, r#"{"sid":""}"#, 422),
        case("numeric sid", Hook, r#"{"sid":5}"#, 422),
        case("array sid", Hook, r#"{"sid":["a"]}"#, 422),
        case(
            "object search_name",
            Hook,
            r#"{"search_name":{"a":"b"}}"#,
            422,
        ),
        case("boolean app", Hook, r#"{"sid":"s","app":true}"#, 422),
        case("string result", Hook, r#"{"sid":"s","result":"row"}"#, 422),
        case(
            "array result",
            Hook,
            r#"{"sid":"s","result":[{"a":"b"}]}"#,
            422,
        ),
        case(
            "object result value",
            Hook,
            format!(r#"{{"sid":"s","result":{{"p":{{"x":"{RAW_LOG}"}}}}}}"#),
            422,
        ),
        case(
            "object in value list",
            Hook,
            r#"{"sid":"s","result":{"ips":["1.1.1.1",{}]}}"#,
            422,
        ),
        case(
            "boolean in value list",
            Hook,
            r#"{"sid":"s","result":{"ips":[true]}}"#,
            422,
        ),
        case(
            "sid too long",
            Hook,
            format!(r#"{{"sid":"{}"}}"#, "s".repeat(5000)),
            422,
        ),
        case("too many result fields", Hook, many_fields(1001), 422),
        case(
            "empty field name",
            Hook,
            r#"{"sid":"s","result":{"":"v"}}"#,
            422,
        ),
        case(
            "field name too long",
            Hook,
            format!(r#"{{"sid":"s","result":{{"{}":"v"}}}}"#, "n".repeat(300)),
            422,
        ),
        case("value too long", Hook, padded(300 * 1024), 422),
        case("too many extra fields", Hook, many_extra(65), 422),
        // Oversized: 413.
        case("body of 2 MiB", Hook, padded(2 * 1024 * 1024), 413),
        case(
            "body one byte over 1 MiB",
            Hook,
            padded(1024 * 1024 + 1 - 32),
            413,
        ),
        case(
            "bearer body of 2 MiB",
            Bearer(Some(
                "Bearer fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
            )),
            padded(2 * 1024 * 1024),
            413,
        ),
        case(
            "declared length of 2 MiB",
            HookWithLength,
            padded(2 * 1024 * 1024),
            413,
        )
        .saying("exceeds the 1048576-byte limit"),
        // Bad path or query parameters: 400.
        case(
            "alert id not a number",
            Api(Method::GET, "/api/alerts/abc"),
            "",
            400,
        )
        .saying("invalid alert id 'abc': expected a whole number"),
        case(
            "delete alert id not a number",
            Api(Method::DELETE, "/api/alerts/1.5"),
            "",
            400,
        )
        .saying("invalid alert id '1.5'"),
        case(
            "reinvestigate id too large",
            Api(Method::POST, "/api/alerts/99999999999999999999/investigate"),
            "",
            400,
        )
        .saying("invalid alert id '99999999999999999999'"),
        case(
            "alert id cut short",
            Api(
                Method::GET,
                "/api/alerts/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ),
            "",
            400,
        )
        .saying("'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'"),
        case(
            "limit not a number",
            Api(Method::GET, "/api/alerts?limit=abc"),
            "",
            400,
        )
        .saying("invalid query parameter limit 'abc': expected a whole number from 1"),
        case(
            "negative limit",
            Api(Method::GET, "/api/incidents?limit=-1"),
            "",
            400,
        )
        .saying("query parameter limit '-1'"),
        case(
            "before not a number",
            Api(Method::GET, "/api/alerts?before=x"),
            "",
            400,
        )
        .saying("query parameter before 'x'"),
        case(
            "alert filter not a number",
            Api(Method::GET, "/api/incidents?alert=x"),
            "",
            400,
        )
        .saying("query parameter alert 'x'"),
        case(
            "limit given twice",
            Api(Method::GET, "/api/alerts?limit=1&limit=2"),
            "",
            400,
        )
        .saying("query parameter limit is given more than once"),
        case(
            "events investigation given twice",
            Api(Method::GET, "/api/events?investigation=a&investigation=b"),
            "",
            400,
        )
        .saying("query parameter investigation is given more than once"),
        // Unknown routes: 404. Wrong methods: 405.
        case("unknown route", Api(Method::GET, "/nope"), "", 404).saying("no route matches"),
        case("unknown api route", Api(Method::GET, "/api/nope"), "", 404)
            .saying("no route matches"),
        case(
            "hook without token",
            Api(Method::POST, "/hooks/splunk"),
            VALID,
            404,
        )
        .saying("no route matches"),
        case(
            "get on hook route",
            Api(Method::GET, "/hooks/splunk/x"),
            "",
            405,
        )
        .saying("method GET is not allowed on this route; use POST"),
        case("put on alerts", Api(Method::PUT, "/api/alerts"), "", 405)
            .saying("method PUT is not allowed on this route; use GET"),
        case(
            "get on investigate",
            Api(Method::GET, "/api/agent/investigate"),
            "",
            405,
        )
        .saying("use POST"),
    ]
}

fn request(case: &Case) -> Request<Body> {
    let body = Body::from(case.body.clone());
    match case.route {
        Route::Hook => Request::post(format!("/hooks/splunk/{HOOK_TOKEN}"))
            .body(body)
            .unwrap(),
        Route::HookToken(token) => Request::post(format!("/hooks/splunk/{token}"))
            .body(body)
            .unwrap(),
        Route::Bearer(auth) => {
            let mut builder = Request::post("/api/agent/investigate");
            if let Some(auth) = auth {
                builder = builder.header(header::AUTHORIZATION, auth);
            }
            builder.body(body).unwrap()
        }
        Route::ApiGet(path, auth) => {
            let mut builder = Request::get(path);
            if let Some(auth) = auth {
                builder = builder.header(header::AUTHORIZATION, auth);
            }
            builder.body(Body::empty()).unwrap()
        }
        Route::Api(ref method, path) => Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {API_TOKEN}"))
            .body(body)
            .unwrap(),
        Route::HookWithLength => Request::post(format!("/hooks/splunk/{HOOK_TOKEN}"))
            .header(header::CONTENT_LENGTH, case.body.len())
            .body(body)
            .unwrap(),
    }
}

/// Checks that a response body is a JSON error with a kind and a message,
/// and returns the message.
fn json_error_message(name: &str, text: &str) -> Result<String, String> {
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{name}: body is not JSON ({e}): {text}"))?;
    if json["error"]["kind"].as_str().is_none_or(str::is_empty) {
        return Err(format!("{name}: no error.kind: {text}"));
    }
    json["error"]["message"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{name}: no error.message: {text}"))
}

#[test]
fn table_has_at_least_40_rows() {
    assert!(cases().len() >= 40, "{} rows", cases().len());
}

#[test]
fn one_mib_body_size_is_exact() {
    assert_eq!(padded(1024 * 1024 + 1 - 32).len(), 1024 * 1024 + 1);
}

#[tokio::test]
async fn bad_requests_get_expected_status() {
    let app = TestApp::new();
    let mut wrong = Vec::new();
    for case in cases() {
        let response = app.router().oneshot(request(&case)).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes);
        if status != case.expected {
            wrong.push(format!(
                "{}: expected {}, got {status}: {text}",
                case.name, case.expected
            ));
        }
        match json_error_message(case.name, &text) {
            Err(problem) => wrong.push(problem),
            Ok(message) => {
                if let Some(expected) = case.message.filter(|m| !message.contains(m)) {
                    wrong.push(format!(
                        "{}: expected {expected:?} in {message:?}",
                        case.name
                    ));
                }
            }
        }
        for secret in [HOOK_TOKEN, WEBHOOK_SECRET, API_TOKEN, RAW_LOG] {
            assert!(
                !text.contains(secret),
                "{} echoed a secret or log content: {text}",
                case.name
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn bad_requests_store_nothing() {
    let app = TestApp::new();
    for case in cases() {
        app.router().oneshot(request(&case)).await.unwrap();
    }
    assert_eq!(app.stored_rows(), 0);
}

/// Windows editors save JSON with a leading UTF-8 byte order mark, which the listener drops.
#[tokio::test]
async fn byte_order_mark_body_accepted() {
    let app = TestApp::new();
    let mut body = vec![0xef, 0xbb, 0xbf];
    body.extend(VALID.as_bytes());
    let response = app
        .router()
        .oneshot(
            Request::post(format!("/hooks/splunk/{HOOK_TOKEN}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let alerts: i64 = app
        .db()
        .query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(alerts, 1);
}

#[tokio::test]
async fn shape_error_names_field_path() {
    let app = TestApp::new();
    let body = r#"{"sid":"s","result":{"ips":["1.1.1.1",{}]}}"#;
    let response = app
        .router()
        .oneshot(
            Request::post(format!("/hooks/splunk/{HOOK_TOKEN}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("$.result.ips[1]"),
        "{json}"
    );
}

#[tokio::test]
async fn chunked_oversized_body_413() {
    let app = TestApp::new();
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..40)
        .map(|_| Ok(Bytes::from(vec![b' '; 64 * 1024])))
        .collect();
    let body = Body::from_stream(futures::stream::iter(chunks));
    let request = Request::post(format!("/hooks/splunk/{HOOK_TOKEN}"))
        .body(body)
        .unwrap();
    let response = app.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.stored_rows(), 0);
}

#[tokio::test]
async fn get_on_hook_route_405() {
    let app = TestApp::new();
    let request = Request::get(format!("/hooks/splunk/{HOOK_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let response = app.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}
