//! The SQLite incident store: de-duplication, the queue's states, atomic
//! completion, recovery after a stop, and write failures.

use std::sync::Arc;

use argus::agent::playbook::PlaybookPlanner;
use argus::agent::sink::NullSink;
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::evidence::EvidenceStore;
use argus::report::Report;
use argus::search::local::LocalBackend;
use argus::store::{AlertSource, IncidentStore, Ingest, InvestigationState, SqliteStore};
use rusqlite::Connection;

fn alert(sid: &str, src_ip: &str) -> Alert {
    let json = format!(
        r#"{{"sid":"{sid}","search_name":"SSH Brute Force Detected","result":{{"src_ip":"{src_ip}","_time":"1785663862"}}}}"#
    );
    Alert::from_json(&json).unwrap()
}

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("argus.db")).unwrap();
    (dir, store)
}

/// Runs the agent over two syslog lines: a real report, produced quickly.
async fn report_for(alert: &Alert) -> Report {
    let mut evidence = EvidenceStore::new();
    let lines = "2026-08-02T09:44:22+00:00 gacrux sshd[1]: Failed password for root from 5.101.40.81 port 1 ssh2\n\
                 2026-08-02T09:44:23+00:00 gacrux sshd[1]: Failed password for root from 5.101.40.81 port 2 ssh2\n";
    evidence.ingest_bytes("secure.log", lines.as_bytes(), None);
    let backend = Arc::new(LocalBackend::new(evidence, "two lines"));
    let agent = Agent::new(
        backend,
        Arc::new(PlaybookPlanner),
        Arc::new(NullSink),
        AgentConfig::default(),
    );
    agent.investigate(alert).await.unwrap()
}

fn state_of(store: &SqliteStore, id: &str) -> InvestigationState {
    store.get_investigation(id).unwrap().unwrap().state
}

#[tokio::test]
async fn insert_queues_investigation() {
    let (_dir, store) = open();
    let ingest = store
        .insert_alert(alert("s1", "5.101.40.81"), AlertSource::Webhook)
        .await
        .unwrap();
    let Ingest::Queued {
        alert: id,
        investigation,
    } = ingest
    else {
        panic!("expected queued")
    };
    assert_eq!(investigation, format!("inv-{id}-1"));
    assert_eq!(state_of(&store, &investigation), InvestigationState::Queued);
}

#[tokio::test]
async fn duplicate_alert_not_stored_twice() {
    let (_dir, store) = open();
    let first = store
        .insert_alert(alert("s1", "5.101.40.81"), AlertSource::Webhook)
        .await
        .unwrap();
    let second = store
        .insert_alert(alert("s1", "5.101.40.81"), AlertSource::Api)
        .await
        .unwrap();
    assert_eq!(
        second,
        Ingest::Duplicate {
            alert: first.alert_id()
        }
    );
    let counts = store.counts().unwrap();
    assert_eq!(counts.alerts, 1);
    assert_eq!(counts.queued, 1);
}

#[tokio::test]
async fn same_sid_other_result_is_new() {
    let (_dir, store) = open();
    store
        .insert_alert(alert("s1", "5.101.40.81"), AlertSource::Webhook)
        .await
        .unwrap();
    let other = store
        .insert_alert(alert("s1", "10.0.0.9"), AlertSource::Webhook)
        .await
        .unwrap();
    assert!(matches!(other, Ingest::Queued { .. }));
    assert_eq!(store.counts().unwrap().alerts, 2);
}

#[tokio::test]
async fn dedup_ignores_field_order() {
    let a = Alert::from_json(r#"{"sid":"s","result":{"a":"1","b":"2"}}"#).unwrap();
    let b = Alert::from_json(r#"{"sid":"s","result":{"b":"2","a":"1"}}"#).unwrap();
    assert_eq!(argus::store::dedup_key(&a), argus::store::dedup_key(&b));
}

#[tokio::test]
async fn claim_takes_oldest_first() {
    let (_dir, store) = open();
    let first = store
        .insert_alert(alert("s1", "1.1.1.1"), AlertSource::Webhook)
        .await
        .unwrap();
    store
        .insert_alert(alert("s2", "2.2.2.2"), AlertSource::Webhook)
        .await
        .unwrap();
    let claimed = store.claim_next().await.unwrap().unwrap();
    assert_eq!(claimed.alert_id, first.alert_id());
    assert_eq!(claimed.alert.sid.as_deref(), Some("s1"));
    assert_eq!(state_of(&store, &claimed.id), InvestigationState::Running);
}

#[tokio::test]
async fn claim_on_empty_queue_is_none() {
    let (_dir, store) = open();
    assert!(store.claim_next().await.unwrap().is_none());
}

#[tokio::test]
async fn complete_stores_report_steps_evidence() {
    let (dir, store) = open();
    let a = alert("s1", "5.101.40.81");
    store
        .insert_alert(a.clone(), AlertSource::Webhook)
        .await
        .unwrap();
    let claimed = store.claim_next().await.unwrap().unwrap();
    let mut report = report_for(&a).await;
    report.id = claimed.id.clone();
    assert!(store.complete(&claimed.id, report.clone()).await.unwrap());

    assert_eq!(state_of(&store, &claimed.id), InvestigationState::Complete);
    // Floats may differ in the last digit after a JSON round trip, so compare the parts.
    let loaded = store
        .load_report(&claimed.id)
        .unwrap()
        .expect("report stored");
    assert_eq!(loaded.id, claimed.id);
    assert_eq!(loaded.summary, report.summary);
    assert_eq!(loaded.severity, report.severity);
    assert_eq!(loaded.findings, report.findings);
    assert_eq!(store.list_reports().unwrap(), vec![claimed.id.clone()]);
    let db = Connection::open(dir.path().join("argus.db")).unwrap();
    let steps: i64 = db
        .query_row("SELECT count(*) FROM steps", [], |r| r.get(0))
        .unwrap();
    let evidence: i64 = db
        .query_row("SELECT count(*) FROM evidence", [], |r| r.get(0))
        .unwrap();
    assert_eq!(steps, report.steps.len() as i64);
    assert_eq!(evidence, report.evidence.len() as i64);
}

#[tokio::test]
async fn failed_report_write_leaves_running() {
    let (dir, store) = open();
    let a = alert("s1", "5.101.40.81");
    store
        .insert_alert(a.clone(), AlertSource::Webhook)
        .await
        .unwrap();
    let claimed = store.claim_next().await.unwrap().unwrap();
    let db = Connection::open(dir.path().join("argus.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER break_reports BEFORE INSERT ON reports BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    )
    .unwrap();
    let result = store.complete(&claimed.id, report_for(&a).await).await;
    assert!(result.is_err());
    assert_eq!(state_of(&store, &claimed.id), InvestigationState::Running);
    let steps: i64 = db
        .query_row("SELECT count(*) FROM steps", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        steps, 0,
        "steps of a rolled-back completion must not remain"
    );
}

#[tokio::test]
async fn complete_after_delete_is_ignored() {
    let (_dir, store) = open();
    let a = alert("s1", "5.101.40.81");
    let ingest = store
        .insert_alert(a.clone(), AlertSource::Webhook)
        .await
        .unwrap();
    let claimed = store.claim_next().await.unwrap().unwrap();
    assert!(store.delete_alert(ingest.alert_id()).await.unwrap());
    assert!(!store
        .complete(&claimed.id, report_for(&a).await)
        .await
        .unwrap());
    assert!(store.list_reports().unwrap().is_empty());
}

#[tokio::test]
async fn fail_records_reason() {
    let (_dir, store) = open();
    store
        .insert_alert(alert("s1", "1.1.1.1"), AlertSource::Webhook)
        .await
        .unwrap();
    let claimed = store.claim_next().await.unwrap().unwrap();
    assert!(store.fail(&claimed.id, "backend down").await.unwrap());
    let record = store.get_investigation(&claimed.id).unwrap().unwrap();
    assert_eq!(record.state, InvestigationState::Failed);
    assert_eq!(record.error.as_deref(), Some("backend down"));
}

#[tokio::test]
async fn reopen_requeues_running() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("argus.db");
    let claimed_id = {
        let store = SqliteStore::open(&path).unwrap();
        store
            .insert_alert(alert("s1", "1.1.1.1"), AlertSource::Webhook)
            .await
            .unwrap();
        store.claim_next().await.unwrap().unwrap().id
    };
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.requeue_running().await.unwrap(), 1);
    let again = store.claim_next().await.unwrap().unwrap();
    assert_eq!(again.id, claimed_id);
    assert_eq!(
        store
            .get_investigation(&again.id)
            .unwrap()
            .unwrap()
            .attempts,
        2
    );
}

#[tokio::test]
async fn reinvestigate_adds_second_investigation() {
    let (_dir, store) = open();
    let ingest = store
        .insert_alert(alert("s1", "1.1.1.1"), AlertSource::Webhook)
        .await
        .unwrap();
    let id = ingest.alert_id();
    let second = store.reinvestigate(id).await.unwrap();
    assert_eq!(second, Some(format!("inv-{id}-2")));
    assert_eq!(store.list_investigations(10, Some(id)).unwrap().len(), 2);
}

#[tokio::test]
async fn reinvestigate_missing_alert_is_none() {
    let (_dir, store) = open();
    assert_eq!(store.reinvestigate(42).await.unwrap(), None);
}

#[tokio::test]
async fn delete_removes_investigations() {
    let (_dir, store) = open();
    let ingest = store
        .insert_alert(alert("s1", "1.1.1.1"), AlertSource::Webhook)
        .await
        .unwrap();
    assert!(store.delete_alert(ingest.alert_id()).await.unwrap());
    assert_eq!(store.counts().unwrap().queued, 0);
    assert!(store.get_alert(ingest.alert_id()).unwrap().is_none());
}

#[tokio::test]
async fn failing_insert_stores_nothing() {
    let (dir, store) = open();
    let db = Connection::open(dir.path().join("argus.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER break_investigations BEFORE INSERT ON investigations
         BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    )
    .unwrap();
    let result = store
        .insert_alert(alert("s1", "1.1.1.1"), AlertSource::Webhook)
        .await;
    assert!(result.is_err());
    assert_eq!(
        store.counts().unwrap().alerts,
        0,
        "the alert row must roll back with its investigation"
    );
}

#[tokio::test]
async fn concurrent_inserts_all_committed() {
    let (_dir, store) = open();
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert_alert(alert(&format!("s{i}"), "1.1.1.1"), AlertSource::Webhook)
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert!(matches!(
            task.await.unwrap().unwrap(),
            Ingest::Queued { .. }
        ));
    }
    let counts = store.counts().unwrap();
    assert_eq!(counts.alerts, 300);
    assert_eq!(counts.queued, 300);
}

#[tokio::test]
async fn alerts_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("argus.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .insert_alert(alert("s1", "1.1.1.1"), AlertSource::Webhook)
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let alerts = store.list_alerts(10, None).unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].alert.field("src_ip"), Some("1.1.1.1"));
    assert_eq!(alerts[0].fired_at, Some(1785663862));
}

#[tokio::test]
async fn wal_mode_is_on() {
    let (dir, _store) = open();
    let db = Connection::open(dir.path().join("argus.db")).unwrap();
    let mode: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}
