//! The listener on a real socket (127.0.0.1, port 0) with workers running:
//! an alert posted over HTTP is investigated, its steps arrive as
//! server-sent events, and its report is served by the API.

mod listener_common;

use std::sync::Arc;
use std::time::Duration;

use argus::agent::planner::Planner;
use argus::agent::playbook::PlaybookPlanner;
use argus::agent::AgentConfig;
use argus::evidence::EvidenceStore;
use argus::search::local::LocalBackend;
use argus::server::worker::{spawn_workers, WorkerContext};
use listener_common::{demo_alert, TestApp, API_TOKEN, HOOK_TOKEN};

async fn serve(app: &TestApp) -> (String, tokio::sync::watch::Sender<bool>) {
    let mut evidence = EvidenceStore::new();
    argus::demo::ingest(&mut evidence);
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let context = WorkerContext {
        store: app.store.clone(),
        backend: Arc::new(LocalBackend::new(evidence, "demo")),
        planners: Arc::new(|| Arc::new(PlaybookPlanner) as Arc<dyn Planner>),
        agent_config: AgentConfig::default(),
        wake: app.state.wake.clone(),
        events: app.state.events.clone(),
        shutdown,
        grace: Duration::from_secs(1),
        search_budget: None,
    };
    spawn_workers(context, 1);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_alert_streams_steps_and_report() {
    let app = TestApp::new();
    let (base, _stop) = serve(&app).await;
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let mut events = client
        .get(format!("{base}/api/events"))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");

    let posted = client
        .post(format!("{base}/hooks/splunk/{HOOK_TOKEN}"))
        .body(demo_alert("ssh_brute_force"))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 202);
    let queued: serde_json::Value = posted.json().await.unwrap();
    let investigation = queued["investigation"].as_str().unwrap().to_string();

    let mut stream = String::new();
    let read = tokio::time::timeout(Duration::from_secs(120), async {
        while !stream.contains("investigation_finished") {
            let chunk = events.chunk().await.unwrap().expect("stream stays open");
            stream.push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    read.await.expect("the investigation finishes within two minutes");
    assert!(stream.contains("event: step"), "{stream}");
    assert!(stream.contains(r#""type":"step_started""#));
    assert!(stream.contains(&format!(r#""investigation":"{investigation}""#)));

    // The report is committed just after the last event; poll briefly for it.
    let mut report = serde_json::Value::Null;
    for _ in 0..50 {
        let incident: serde_json::Value = client
            .get(format!("{base}/api/incidents/{investigation}"))
            .bearer_auth(API_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if incident["incident"]["state"] == "complete" {
            report = incident["report"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(report["id"], investigation.as_str());
    assert_eq!(report["severity"]["level"], "CRITICAL");
}
