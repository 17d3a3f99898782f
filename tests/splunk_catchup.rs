//! Catch-up from Splunk's fired alerts against the REST test server: the
//! alerts the store lacks are queued, the ones it has are not, the cursor
//! limits what is read, and rejected credentials are reported. The last
//! test starts `argus serve --backend splunk` and finds the fired alerts
//! queued before the listener's banner appears.

#[path = "support/splunk_server.rs"]
mod splunk_server;

use argus::alert::Alert;
use argus::evidence::EvidenceStore;
use argus::search::splunk::fired::SplunkFiredAlerts;
use argus::search::splunk::SplunkSettings;
use argus::store::catchup::catch_up;
use argus::store::{AlertSource, SqliteStore};
use splunk_server::{ScriptedFired, TestServer};

/// Splunk Web's address in the demo alerts' `results_link`.
const WEB_URL: &str = "http://splunk.example.com:8000";

/// Demo alert names with the trigger time in their own `sid` (`..._at_<epoch>_...`).
const DEMO: [(&str, i64); 5] = [
    ("ssh_brute_force", 1785664200),
    ("suspicious_outbound", 1785672300),
    ("cryptomining", 1785683100),
    ("windows_auth_failure", 1785687900),
    ("web_attack", 1785695700),
];

fn demo_alert(name: &str) -> Alert {
    let path = format!("{}/demo/alerts/{name}.json", env!("CARGO_MANIFEST_DIR"));
    Alert::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Returns the demo alert `name` as a fired alert in Splunk's history, under its own sid.
fn fired(name: &str) -> ScriptedFired {
    let time = DEMO.iter().find(|(n, _)| *n == name).unwrap().1;
    let sid = demo_alert(name).sid.unwrap();
    ScriptedFired::demo(name, &sid, time)
}

fn settings(server: &TestServer, token: Option<&str>) -> SplunkSettings {
    let mut env = server.env();
    if let Some(token) = token {
        env.push(("SPLUNK_TOKEN".into(), token.into()));
    }
    SplunkSettings::from_lookup(|name| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
}

fn source(server: &TestServer) -> SplunkFiredAlerts {
    SplunkFiredAlerts::new(settings(server, None))
        .unwrap()
        .with_web_url(WEB_URL)
}

fn open_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("argus.db")).unwrap();
    (dir, store)
}

async fn start() -> TestServer {
    let _ = rustls::crypto::ring::default_provider().install_default();
    TestServer::start(EvidenceStore::new()).await
}

fn results_requested(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/results"))
        .map(|r| r.path)
        .collect()
}

#[tokio::test]
async fn catch_up_queues_webhook_alerts() {
    let server = start().await;
    server.fire(DEMO.iter().map(|(name, _)| fired(name)));
    let mut other = fired("cryptomining");
    other.sid = "scheduler__admin__search__other_at_1785690000_1".into();
    other.savedsearch_name = "Nightly License Usage".into();
    server.fire([other]);
    let (_dir, store) = open_store();

    let summary = catch_up(&store, &source(&server)).await.unwrap();
    assert_eq!(summary.since, None);
    assert_eq!(summary.fetched, 5);
    assert_eq!(summary.queued, 5);
    assert_eq!(store.counts().unwrap().queued, 5);

    let stored = store.list_alerts(10, None).unwrap();
    for (name, _) in DEMO {
        let expected = demo_alert(name);
        let found = stored
            .iter()
            .find(|s| s.alert.sid == expected.sid)
            .expect(name);
        assert_eq!(found.alert, expected, "{name}");
        assert_eq!(found.source, AlertSource::CatchUp, "{name}");
    }
}

#[tokio::test]
async fn catch_up_sends_form_and_token() {
    let server = start().await;
    server.fire([fired("cryptomining")]);
    let (_dir, store) = open_store();
    catch_up(&store, &source(&server)).await.unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/services/alerts/fired_alerts/-");
    assert_eq!(requests[0].form["output_mode"], "json");
    assert_eq!(requests[0].form["count"], "0");
    let sid = demo_alert("cryptomining").sid.unwrap();
    assert_eq!(
        requests[1].path,
        format!("/services/search/jobs/{sid}/results")
    );
    assert_eq!(requests[1].form["count"], "1");
    let bearer = format!("Bearer {}", splunk_server::TOKEN);
    assert_eq!(requests[1].authorization.as_deref(), Some(bearer.as_str()));
}

#[tokio::test]
async fn catch_up_skips_delivered_alert() {
    let server = start().await;
    server.fire(DEMO.iter().map(|(name, _)| fired(name)));
    let (_dir, store) = open_store();
    // The earliest alert reached the webhook before Argus stopped.
    store
        .insert_alert(demo_alert("ssh_brute_force"), AlertSource::Webhook)
        .await
        .unwrap();

    let summary = catch_up(&store, &source(&server)).await.unwrap();
    assert_eq!(summary.fetched, 5);
    assert_eq!(summary.queued, 4);
    assert_eq!(summary.duplicates, 1);
    assert_eq!(store.counts().unwrap().alerts, 5);
}

#[tokio::test]
async fn catch_up_reads_from_cursor() {
    let server = start().await;
    server.fire([fired("ssh_brute_force"), fired("suspicious_outbound")]);
    let (_dir, store) = open_store();
    catch_up(&store, &source(&server)).await.unwrap();

    // Fired while Argus was down again, plus an alert older than the cursor.
    server.fire([fired("cryptomining"), fired("web_attack")]);
    let old_sid = "scheduler__nobody__argus_alerts__old_at_1785660000_9";
    server.fire([ScriptedFired::demo("ssh_brute_force", old_sid, 1785660000)]);
    let second = catch_up(&store, &source(&server)).await.unwrap();

    // The cursor is the newest stored result's `_time`: suspicious_outbound's.
    assert_eq!(second.since, Some(1785671948));
    assert_eq!(second.fetched, 3);
    assert_eq!(second.queued, 2);
    assert_eq!(second.duplicates, 1);
    assert_eq!(store.counts().unwrap().alerts, 4);
    let requested = results_requested(&server);
    assert!(
        !requested.iter().any(|p| p.contains(old_sid)),
        "{requested:?}"
    );
}

#[tokio::test]
async fn catch_up_reports_rejected_token() {
    let server = start().await;
    server.fire([fired("cryptomining")]);
    let (_dir, store) = open_store();
    let wrong = SplunkFiredAlerts::new(settings(&server, Some("wrong-token"))).unwrap();

    let error = catch_up(&store, &wrong).await.unwrap_err().to_string();
    assert!(error.contains("authentication failed"), "{error}");
    assert!(error.contains("HTTP 401"), "{error}");
    assert!(error.contains("SPLUNK_TOKEN"), "{error}");
    assert!(error.contains(&server.addr.port().to_string()), "{error}");
    assert_eq!(store.counts().unwrap().alerts, 0);
}

#[tokio::test]
async fn catch_up_logs_in_with_password() {
    let server = start().await;
    server.fire([fired("web_attack")]);
    let (_dir, store) = open_store();
    let mut env = server.env();
    env.retain(|(k, _)| k != "SPLUNK_TOKEN");
    env.push(("SPLUNK_USERNAME".into(), splunk_server::USERNAME.into()));
    env.push(("SPLUNK_PASSWORD".into(), splunk_server::PASSWORD.into()));
    let settings = SplunkSettings::from_lookup(|name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .unwrap();

    let summary = catch_up(&store, &SplunkFiredAlerts::new(settings).unwrap())
        .await
        .unwrap();
    assert_eq!(summary.queued, 1);
    let session = format!("Splunk {}", splunk_server::SESSION_KEY);
    let last = server.requests().pop().unwrap();
    assert_eq!(last.authorization.as_deref(), Some(session.as_str()));
}

#[tokio::test]
async fn catch_up_skips_expired_job() {
    let server = start().await;
    let mut expired = fired("ssh_brute_force");
    expired.job_expired = true;
    server.fire([expired, fired("web_attack")]);
    let (_dir, store) = open_store();

    let summary = catch_up(&store, &source(&server)).await.unwrap();
    assert_eq!(summary.fetched, 1);
    assert_eq!(summary.queued, 1);
    let stored = store.list_alerts(10, None).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].alert.sid, demo_alert("web_attack").sid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_catches_up_before_listening() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let server = start().await;
    server.fire(DEMO.iter().map(|(name, _)| fired(name)));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_argus"))
        .args([
            "serve",
            "--backend",
            "splunk",
            "--port",
            "0",
            "--workers",
            "1",
        ])
        .args(["--shutdown-grace", "1", "--splunk-web-url", WEB_URL])
        .arg("--data-dir")
        .arg(&data)
        .envs(server.env())
        .env_remove("SPLUNK_USERNAME")
        .env_remove("SPLUNK_PASSWORD")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // The first banner line is printed once the listener is bound, after catch-up.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = sender.send(lines.next().and_then(Result::ok));
        // Drain the rest of the banner, so the server never writes to a closed pipe.
        for _ in lines {}
    });
    let first = receiver.recv_timeout(std::time::Duration::from_secs(30));
    let store = SqliteStore::open(data.join("argus.db")).unwrap();
    let stored = store.list_alerts(10, None).unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();

    let first = first.expect("banner within 30 s").expect("banner line");
    assert!(first.starts_with("listening on "), "{first}");
    assert_eq!(stored.len(), 5);
    assert!(stored.iter().all(|s| s.source == AlertSource::CatchUp));
    let web = demo_alert("web_attack");
    let found = stored
        .iter()
        .find(|s| s.alert.sid == web.sid)
        .expect("web_attack stored");
    assert_eq!(found.alert, web);
}
