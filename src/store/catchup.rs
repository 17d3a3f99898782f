//! Catch-up: queueing alerts that fired while Argus was not running.
//!
//! On start, server mode asks a [`FiredAlertSource`] for the alerts that
//! fired since the last one the store has seen, and stores each it lacks
//! exactly as if the webhook had delivered it (same de-duplication, same
//! queue). The store keeps a `catch_up` cursor (epoch seconds of the latest
//! fired alert read) so a deleted alert is not fetched again, unless it
//! fired in the cursor's own second: the source is asked from that second
//! on, inclusive, because several alerts can fire within one second.
//!
//! The Splunk source is [`crate::search::splunk::fired::SplunkFiredAlerts`],
//! which `argus serve --backend splunk` runs once on start. With the local
//! backend no catch-up runs, because no fired-alert history exists.

use async_trait::async_trait;
use tracing::info;

use super::records::{AlertSource, Ingest};
use super::sqlite::SqliteStore;
use super::StoreError;
use crate::alert::Alert;

/// The cursor's name in the store's `cursors` table.
pub const CURSOR: &str = "catch_up";

/// Errors while catching up.
#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    #[error("cannot read fired alerts from {source_name}: {reason}")]
    Source { source_name: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Somewhere that remembers which alerts fired, such as Splunk's fired-alerts list.
#[async_trait]
pub trait FiredAlertSource: Send + Sync {
    /// Names the source in logs and errors.
    fn name(&self) -> String;
    /// Returns the alerts that fired at or after `since` (epoch seconds), or
    /// every alert the source keeps when `since` is `None`. Each alert's
    /// result row should carry `_time` so the cursor can advance.
    async fn fired_since(&self, since: Option<i64>) -> Result<Vec<Alert>, CatchUpError>;
}

/// What one catch-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatchUpSummary {
    /// The time asked from, in epoch seconds.
    pub since: Option<i64>,
    pub fetched: usize,
    pub queued: usize,
    pub duplicates: usize,
}

/// Fetches the alerts fired since the store's latest and queues the new ones.
pub async fn catch_up(
    store: &SqliteStore,
    source: &dyn FiredAlertSource,
) -> Result<CatchUpSummary, CatchUpError> {
    let since = store.cursor(CURSOR)?.max(store.latest_fired_at()?);
    let alerts = source.fired_since(since).await?;
    let mut summary = CatchUpSummary {
        since,
        fetched: alerts.len(),
        ..CatchUpSummary::default()
    };
    let mut latest = since;
    for alert in alerts {
        let fired = alert
            .field("_time")
            .and_then(|t| t.trim().parse::<f64>().ok());
        latest = latest.max(fired.map(|t| t as i64));
        match store.insert_alert(alert, AlertSource::CatchUp).await? {
            Ingest::Queued { .. } => summary.queued += 1,
            Ingest::Duplicate { .. } => summary.duplicates += 1,
        }
    }
    if let Some(latest) = latest {
        store.advance_cursor(CURSOR, latest).await?;
    }
    info!(source = %source.name(), ?since, fetched = summary.fetched, queued = summary.queued, "caught up");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A source holding fixed alerts; it records each `since` it was asked for.
    struct FakeSource {
        alerts: Vec<Alert>,
        asked: Mutex<Vec<Option<i64>>>,
    }

    #[async_trait]
    impl FiredAlertSource for FakeSource {
        fn name(&self) -> String {
            "fake source".into()
        }

        async fn fired_since(&self, since: Option<i64>) -> Result<Vec<Alert>, CatchUpError> {
            self.asked.lock().unwrap().push(since);
            let fired = |a: &Alert| a.field("_time").unwrap().parse::<i64>().unwrap();
            Ok(self
                .alerts
                .iter()
                .filter(|a| since.is_none_or(|s| fired(a) >= s))
                .cloned()
                .collect())
        }
    }

    fn alert(sid: &str, time: i64) -> Alert {
        let json = format!(
            r#"{{"sid":"{sid}","search_name":"SSH Brute Force","result":{{"_time":"{time}"}}}}"#
        );
        Alert::from_json(&json).unwrap()
    }

    fn source(alerts: Vec<Alert>) -> FakeSource {
        FakeSource {
            alerts,
            asked: Mutex::new(Vec::new()),
        }
    }

    fn open() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("argus.db")).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn catch_up_queues_missing_alerts() {
        let (_dir, store) = open();
        store
            .insert_alert(alert("a", 100), AlertSource::Webhook)
            .await
            .unwrap();
        let fake = source(vec![alert("a", 100), alert("b", 200), alert("c", 300)]);
        let summary = catch_up(&store, &fake).await.unwrap();
        assert_eq!(summary.since, Some(100));
        assert_eq!(summary.queued, 2);
        assert_eq!(summary.duplicates, 1);
        assert_eq!(store.counts().unwrap().queued, 3);
    }

    #[tokio::test]
    async fn catch_up_twice_adds_nothing() {
        let (_dir, store) = open();
        let fake = source(vec![alert("a", 100), alert("b", 200)]);
        catch_up(&store, &fake).await.unwrap();
        let second = catch_up(&store, &fake).await.unwrap();
        assert_eq!(second.queued, 0);
        assert_eq!(store.counts().unwrap().alerts, 2);
    }

    #[tokio::test]
    async fn catch_up_asks_from_cursor_after_delete() {
        let (_dir, store) = open();
        let fake = source(vec![alert("a", 100), alert("b", 200)]);
        catch_up(&store, &fake).await.unwrap();
        let newest = store.list_alerts(1, None).unwrap()[0].id;
        store.delete_alert(newest).await.unwrap();
        let second = catch_up(&store, &fake).await.unwrap();
        assert_eq!(second.since, Some(200));
        assert_eq!(fake.asked.lock().unwrap().as_slice(), &[None, Some(200)]);
    }

    #[tokio::test]
    async fn catch_up_empty_store_asks_everything() {
        let (_dir, store) = open();
        let fake = source(vec![alert("a", 100)]);
        let summary = catch_up(&store, &fake).await.unwrap();
        assert_eq!(summary.since, None);
        assert_eq!(summary.queued, 1);
    }
}
