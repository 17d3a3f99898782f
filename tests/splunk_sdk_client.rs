//! Keeps the REST test server honest: Splunk's Python SDK (`splunklib`)
//! must read the rows the server streams.

#[path = "support/splunk_server.rs"]
mod splunk_server;

use argus::demo;
use argus::evidence::EvidenceStore;
use argus::search::local::LocalBackend;
use splunk_server::TestServer;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/splunklib_export.py");
const QUERY: &str = "search sourcetype=linux_secure \"Failed password\" | stats count by src_ip";

fn demo_store() -> EvidenceStore {
    let mut store = EvidenceStore::new();
    demo::ingest(&mut store);
    store
}

fn splunklib_available() -> bool {
    let probe = std::process::Command::new("python3").args(["-c", "import splunklib"]).output();
    matches!(probe, Ok(output) if output.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn splunklib_reads_served_rows() {
    if !splunklib_available() {
        eprintln!("skipped: python3 with splunklib (pip install splunk-sdk) is not installed");
        return;
    }
    let server = TestServer::start(demo_store()).await;
    let port = server.addr.port().to_string();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args([SCRIPT, &port, splunk_server::TOKEN, QUERY])
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "splunklib failed: {stderr}");
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON rows");
    let expected = LocalBackend::new(demo_store(), "demo").search_blocking(QUERY).unwrap().rows;
    assert!(!expected.is_empty());
    assert_eq!(rows, serde_json::to_value(&expected).unwrap());
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, vec!["/services/search/v2/jobs/export"], "splunklib used the v2 endpoint");
    let auth = server.requests()[0].authorization.clone();
    assert_eq!(auth.as_deref(), Some("Bearer test-token-7f3a"));
}
