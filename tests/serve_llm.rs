//! `argus serve` with a model planner: LLM_PROVIDER=openai-compatible against a
//! loopback server that responds to each alert with its own script. Two alerts
//! posted at once are investigated concurrently, each by its own planner, so
//! each report contains its own model's decisions and none of the other's.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::Router;
use serde_json::{json, Value};

/// The SSH alert's attacker address, which every prompt about that alert contains.
const SSH_ATTACKER: &str = "5.101.40.81";
const SSH_C2: &str = "91.207.175.249";
const MINER_HOST: &str = "mercury.i-0920036c8ca91e501";

/// The answers for one alert, in order, and how many were sent.
struct Script {
    answers: Vec<String>,
    sent: usize,
}

#[derive(Clone)]
struct Scripts {
    ssh: Arc<Mutex<Script>>,
    miner: Arc<Mutex<Script>>,
    /// `ssh` or `miner` per request, in arrival order.
    arrivals: Arc<Mutex<Vec<&'static str>>>,
}

fn plan(action: &str, args: Value, reason: &str) -> String {
    json!({"done": false, "reason": reason,
           "actions": [{"action": action, "args": args, "reason": reason}]})
    .to_string()
}

fn done(reason: &str) -> String {
    json!({"done": true, "reason": reason, "actions": []}).to_string()
}

fn summary(text: &str) -> String {
    json!({"summary": text, "verdict": "true_positive", "confidence": "high",
           "reasons": [text], "attack_chain": [], "remediation": []})
    .to_string()
}

fn scripts() -> Scripts {
    let script = |answers: Vec<String>| Arc::new(Mutex::new(Script { answers, sent: 0 }));
    Scripts {
        ssh: script(vec![
            plan("correlate_ioc", json!({"indicator": SSH_C2}), "ssh path: the login source"),
            done("ssh path complete"),
            summary("SSH story."),
        ]),
        miner: script(vec![
            plan("check_cryptomining", json!({"host": MINER_HOST}), "miner path: pool traffic"),
            done("miner path complete"),
            summary("Miner story."),
        ]),
        arrivals: Arc::new(Mutex::new(Vec::new())),
    }
}

/// Responds to an OpenAI chat-completions request from the script of the alert it is about.
async fn complete(scripts: Scripts, body: Bytes) -> axum::response::Response {
    use axum::response::IntoResponse;
    let text = String::from_utf8_lossy(&body);
    let (label, script) = if text.contains(SSH_ATTACKER) {
        ("ssh", &scripts.ssh)
    } else {
        ("miner", &scripts.miner)
    };
    scripts.arrivals.lock().unwrap().push(label);
    let answer = {
        let mut script = script.lock().unwrap();
        let answer = script.answers.get(script.sent).cloned();
        script.sent += 1;
        answer
    };
    // A pause per call keeps both investigations waiting on the model at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let Some(content) = answer else {
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "script exhausted").into_response();
    };
    axum::Json(json!({
        "id": "chatcmpl-serve", "object": "chat.completion", "created": 1_700_000_000,
        "model": "serve-test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    }))
    .into_response()
}

async fn start_model_server(scripts: Scripts) -> String {
    let app = Router::new().fallback(move |body: Bytes| complete(scripts.clone(), body));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

/// Kills the server process when the test ends, pass or fail.
struct ServeProcess(Child);

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `argus serve` on a free loopback port; returns the process and its base URL.
fn start_serve(data_dir: &std::path::Path, model_url: &str) -> (ServeProcess, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_argus"))
        .args(["serve", "--port", "0", "--workers", "2", "--data-dir"])
        .arg(data_dir)
        .env("LLM_PROVIDER", "openai-compatible")
        .env("OPENAI_BASE_URL", model_url)
        .env("OPENAI_MODEL", "serve-test-model")
        .env_remove("WEBHOOK_SECRET")
        .env_remove("BACKEND_PORT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("argus serve starts");
    let stdout = child.stdout.take().unwrap();
    let process = ServeProcess(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected banner line {first:?}"))
        .to_string();
    (process, base)
}

async fn wait_for_report(client: &reqwest::Client, base: &str, token: &str, id: &str) -> Value {
    for _ in 0..600 {
        let incident: Value = client
            .get(format!("{base}/api/incidents/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match incident["incident"]["state"].as_str() {
            Some("complete") => return incident["report"].clone(),
            Some("failed") => panic!("investigation {id} failed: {incident}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("investigation {id} did not finish within two minutes");
}

fn decision_actions(report: &Value) -> Vec<String> {
    report["llm"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["actions"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

fn decision_reasons(report: &Value) -> Vec<String> {
    report["llm"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reason"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_alerts_keep_own_model_decisions() {
    let scripts = scripts();
    let model_url = start_model_server(scripts.clone()).await;
    let data = tempfile::tempdir().unwrap();
    let (_serve, base) = {
        let dir = data.path().to_path_buf();
        tokio::task::spawn_blocking(move || start_serve(&dir, &model_url)).await.unwrap()
    };
    let hook = std::fs::read_to_string(data.path().join("hook_token")).unwrap();
    let api = std::fs::read_to_string(data.path().join("api_token")).unwrap();
    let (hook, api) = (hook.trim(), api.trim());

    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let post = |name: &str| {
        let body = std::fs::read_to_string(format!(
            "{}/demo/alerts/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        client.post(format!("{base}/hooks/splunk/{hook}")).body(body).send()
    };
    let (ssh, miner) = tokio::join!(post("ssh_brute_force"), post("cryptomining"));
    let id = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 202);
        let queued: Value = response.json().await.unwrap();
        queued["investigation"].as_str().unwrap().to_string()
    };
    let (ssh_id, miner_id) = (id(ssh.unwrap()).await, id(miner.unwrap()).await);
    let ssh_report = wait_for_report(&client, &base, api, &ssh_id).await;
    let miner_report = wait_for_report(&client, &base, api, &miner_id).await;

    assert_eq!(ssh_report["planner"]["model"], "serve-test-model");
    assert_eq!(miner_report["planner"]["model"], "serve-test-model");
    assert_eq!(ssh_report["summary"], "SSH story.");
    assert_eq!(miner_report["summary"], "Miner story.");
    assert_eq!(
        decision_actions(&ssh_report),
        [format!(r#"correlate_ioc({{"indicator":"{SSH_C2}"}})"#)]
    );
    assert_eq!(
        decision_actions(&miner_report),
        [format!(r#"check_cryptomining({{"host":"{MINER_HOST}"}})"#)]
    );
    let ssh_reasons = decision_reasons(&ssh_report);
    let miner_reasons = decision_reasons(&miner_report);
    assert_eq!(ssh_reasons.len(), 3, "{ssh_reasons:?}");
    assert_eq!(miner_reasons.len(), 3, "{miner_reasons:?}");
    assert!(ssh_reasons.iter().all(|r| !r.contains("miner")), "{ssh_reasons:?}");
    assert!(miner_reasons.iter().all(|r| !r.contains("ssh")), "{miner_reasons:?}");
    assert_eq!(ssh_report["model_calls"].as_array().unwrap().len(), 3);
    assert_eq!(miner_report["model_calls"].as_array().unwrap().len(), 3);

    // The two investigations waited on the model at the same time.
    let arrivals = scripts.arrivals.lock().unwrap().clone();
    let first_miner = arrivals.iter().position(|a| *a == "miner").unwrap();
    let last_ssh = arrivals.iter().rposition(|a| *a == "ssh").unwrap();
    let first_ssh = arrivals.iter().position(|a| *a == "ssh").unwrap();
    let last_miner = arrivals.iter().rposition(|a| *a == "miner").unwrap();
    assert!(
        first_miner < last_ssh && first_ssh < last_miner,
        "the calls did not overlap: {arrivals:?}"
    );
}

/// A model server that receives each call and never answers within the test.
async fn start_stalled_model_server(calls: Arc<Mutex<usize>>) -> String {
    let app = Router::new().fallback(move |_body: Bytes| {
        let calls = calls.clone();
        async move {
            *calls.lock().unwrap() += 1;
            tokio::time::sleep(Duration::from_secs(120)).await;
            "never"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_during_model_call_exits_cleanly() {
    let calls = Arc::new(Mutex::new(0));
    let model_url = start_stalled_model_server(calls.clone()).await;
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_argus"))
        .args(["serve", "--port", "0", "--shutdown-grace", "1", "--data-dir"])
        .arg(data.path())
        .env("LLM_PROVIDER", "openai-compatible")
        .env("OPENAI_BASE_URL", &model_url)
        .env("OPENAI_MODEL", "serve-test-model")
        .env("LLM_TIMEOUT_SECS", "100")
        .env_remove("WEBHOOK_SECRET")
        .env_remove("BACKEND_PORT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("argus serve starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let base = first.trim().strip_prefix("listening on ").unwrap().to_string();
    let hook = std::fs::read_to_string(data.path().join("hook_token")).unwrap();

    let _ = rustls::crypto::ring::default_provider().install_default();
    let alert = std::fs::read_to_string(format!(
        "{}/demo/alerts/ssh_brute_force.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let response = reqwest::Client::new()
        .post(format!("{base}/hooks/splunk/{}", hook.trim()))
        .body(alert)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    for _ in 0..300 {
        if *calls.lock().unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(*calls.lock().unwrap() > 0, "the investigation never called the model");

    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
