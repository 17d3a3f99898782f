//! [`SqliteStore`]: the incident store on one SQLite database.
//!
//! Writes are async and go through the group-commit [`Writer`]; reads are
//! blocking calls on a small pool of read connections (wrap them in
//! `spawn_blocking` from async code). WAL mode lets reads run while the
//! writer commits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

use super::records::{
    AlertSource, Ingest, InvestigationRecord, InvestigationState, QueueCounts, StoredAlert,
};
use super::schema::migrate;
use super::writer::Writer;
use super::{IncidentStore, StoreError};
use crate::alert::Alert;
use crate::report::Report;

/// Read connections kept open.
const READERS: usize = 4;

/// The incident store. Cloning is cheap and shares the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

/// An investigation a worker has claimed: it is `running` in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedInvestigation {
    pub id: String,
    pub alert_id: i64,
    pub alert: Alert,
}

/// Returns the de-duplication key of an alert: SHA-256 over its `sid` and
/// its result row with fields in name order, as lowercase hex.
pub fn dedup_key(alert: &Alert) -> String {
    let sorted: BTreeMap<&String, &crate::event::Value> = alert.result.iter().collect();
    let mut hasher = Sha256::new();
    hasher.update(alert.sid.as_deref().unwrap_or("").as_bytes());
    hasher.update([0u8]);
    hasher.update(serde_json::to_vec(&sorted).expect("result rows serialise"));
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The result row's `_time` (epoch seconds, possibly fractional), if any.
fn fired_at(alert: &Alert) -> Option<i64> {
    alert
        .field("_time")?
        .trim()
        .parse::<f64>()
        .ok()
        .map(|t| t as i64)
}

fn open_connection(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let open_error = |e: rusqlite::Error| StoreError::Open {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let conn = Connection::open_with_flags(path, flags).map_err(open_error)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(open_error)?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        .map_err(open_error)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, brings its schema
    /// up to date and starts the writer thread.
    pub fn open(path: impl Into<PathBuf>) -> Result<SqliteStore, StoreError> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        let mut conn = open_connection(&path, OpenFlags::default())?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open {
                path: path.display().to_string(),
                reason: format!("the database refused write-ahead logging (journal mode {mode})"),
            });
        }
        migrate(&mut conn)?;
        let read_flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let readers = (0..READERS)
            .map(|_| open_connection(&path, read_flags).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        let writer = Writer::spawn(conn)?;
        let inner = Inner {
            path,
            writer,
            readers,
            next_reader: AtomicUsize::new(0),
        };
        Ok(SqliteStore {
            inner: Arc::new(inner),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn read<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let index = self.inner.next_reader.fetch_add(1, Ordering::Relaxed) % READERS;
        let conn = self.inner.readers[index]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        work(&conn)
    }

    /// Stores an alert and queues its investigation in one transaction, or
    /// returns the stored alert's ID when it is a duplicate.
    pub async fn insert_alert(
        &self,
        alert: Alert,
        source: AlertSource,
    ) -> Result<Ingest, StoreError> {
        self.inner
            .writer
            .write(move |conn| insert_alert(conn, &alert, source))
            .await
    }

    /// Claims the oldest queued investigation and marks it `running`.
    pub async fn claim_next(&self) -> Result<Option<ClaimedInvestigation>, StoreError> {
        self.inner.writer.write(claim_next).await
    }

    /// Stores a finished report with its steps and evidence and marks the
    /// investigation `complete`, all in one transaction. Returns `false`
    /// when the investigation is no longer `running` (its alert was deleted).
    pub async fn complete(&self, investigation: &str, report: Report) -> Result<bool, StoreError> {
        let id = investigation.to_string();
        self.inner
            .writer
            .write(move |conn| complete(conn, &id, &report))
            .await
    }

    /// Marks a running investigation `failed` with the reason.
    pub async fn fail(&self, investigation: &str, reason: &str) -> Result<bool, StoreError> {
        let (id, reason) = (investigation.to_string(), reason.to_string());
        self.inner
            .writer
            .write(move |conn| {
                let changed = conn.execute(
                    "UPDATE investigations SET state = 'failed', finished_at = ?2, error = ?3
                     WHERE id = ?1 AND state = 'running'",
                    params![id, now(), reason],
                )?;
                Ok(changed == 1)
            })
            .await
    }

    /// Puts a running investigation back in the queue (used at shutdown).
    pub async fn requeue(&self, investigation: &str) -> Result<bool, StoreError> {
        let id = investigation.to_string();
        self.inner
            .writer
            .write(move |conn| {
                let changed = conn.execute(
                    "UPDATE investigations SET state = 'queued', started_at = NULL
                     WHERE id = ?1 AND state = 'running'",
                    [id],
                )?;
                Ok(changed == 1)
            })
            .await
    }

    /// Queues again every investigation left `running` by a stopped process.
    /// Call it once at start, before any worker runs.
    pub async fn requeue_running(&self) -> Result<usize, StoreError> {
        self.inner
            .writer
            .write(|conn| {
                let changed = conn.execute(
                    "UPDATE investigations SET state = 'queued', started_at = NULL
                     WHERE state = 'running'",
                    [],
                )?;
                Ok(changed)
            })
            .await
    }

    /// Queues a new investigation of a stored alert; `None` if there is no such alert.
    pub async fn reinvestigate(&self, alert_id: i64) -> Result<Option<String>, StoreError> {
        self.inner
            .writer
            .write(move |conn| {
                let exists: Option<i64> = conn
                    .query_row("SELECT id FROM alerts WHERE id = ?1", [alert_id], |r| {
                        r.get(0)
                    })
                    .optional()?;
                match exists {
                    Some(_) => queue_investigation(conn, alert_id).map(Some),
                    None => Ok(None),
                }
            })
            .await
    }

    /// Deletes an alert with its investigations and reports; `false` if absent.
    pub async fn delete_alert(&self, alert_id: i64) -> Result<bool, StoreError> {
        self.inner
            .writer
            .write(move |conn| {
                Ok(conn.execute("DELETE FROM alerts WHERE id = ?1", [alert_id])? == 1)
            })
            .await
    }

    /// Raises the named cursor to `value` (it never moves back).
    pub async fn advance_cursor(&self, name: &str, value: i64) -> Result<(), StoreError> {
        let name = name.to_string();
        self.inner
            .writer
            .write(move |conn| {
                conn.execute(
                    "INSERT INTO cursors (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                    params![name, value],
                )?;
                Ok(())
            })
            .await
    }

    /// Returns the named cursor's value.
    pub fn cursor(&self, name: &str) -> Result<Option<i64>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .query_row("SELECT value FROM cursors WHERE name = ?1", [name], |r| {
                    r.get(0)
                })
                .optional()?)
        })
    }

    /// Returns the latest `_time` among stored alerts, in epoch seconds.
    pub fn latest_fired_at(&self) -> Result<Option<i64>, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT max(fired_at) FROM alerts", [], |r| r.get(0))?))
    }

    /// Lists alerts newest first, `limit` at most, with IDs below `before` if given.
    pub fn list_alerts(
        &self,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, source, received_at, fired_at, body FROM alerts
                 WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows =
                stmt.query_map(params![before.unwrap_or(i64::MAX), limit as i64], alert_row)?;
            rows.map(|row| row?).collect()
        })
    }

    /// Loads one alert.
    pub fn get_alert(&self, id: i64) -> Result<Option<StoredAlert>, StoreError> {
        self.read(|conn| {
            let row = conn
                .query_row(
                    "SELECT id, source, received_at, fired_at, body FROM alerts WHERE id = ?1",
                    [id],
                    alert_row,
                )
                .optional()?;
            row.transpose()
        })
    }

    /// Lists investigations newest first; `alert` restricts them to one alert.
    pub fn list_investigations(
        &self,
        limit: usize,
        alert: Option<i64>,
    ) -> Result<Vec<InvestigationRecord>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{INVESTIGATION_SELECT} WHERE ?1 IS NULL OR i.alert_id = ?1 ORDER BY i.seq DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![alert, limit as i64], investigation_row)?;
            rows.map(|row| row?).collect()
        })
    }

    /// Loads one investigation's record.
    pub fn get_investigation(&self, id: &str) -> Result<Option<InvestigationRecord>, StoreError> {
        self.read(|conn| {
            let sql = format!("{INVESTIGATION_SELECT} WHERE i.id = ?1");
            conn.query_row(&sql, [id], investigation_row)
                .optional()?
                .transpose()
        })
    }

    /// Returns how many alerts and investigations in each state are stored.
    pub fn counts(&self) -> Result<QueueCounts, StoreError> {
        self.read(|conn| {
            let mut counts = QueueCounts {
                alerts: conn.query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))?,
                ..QueueCounts::default()
            };
            let mut stmt =
                conn.prepare_cached("SELECT state, count(*) FROM investigations GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (state, count) = row?;
                match InvestigationState::parse(&state) {
                    Some(InvestigationState::Queued) => counts.queued = count,
                    Some(InvestigationState::Running) => counts.running = count,
                    Some(InvestigationState::Complete) => counts.complete = count,
                    Some(InvestigationState::Failed) => counts.failed = count,
                    None => {}
                }
            }
            Ok(counts)
        })
    }
}

const INVESTIGATION_SELECT: &str = "
    SELECT i.id, i.alert_id, a.search_name, i.state, i.attempts, i.queued_at, i.started_at,
           i.finished_at, i.error, r.severity
    FROM investigations i
    JOIN alerts a ON a.id = i.alert_id
    LEFT JOIN reports r ON r.investigation_id = i.id";

fn alert_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<StoredAlert, StoreError>> {
    let id: i64 = row.get(0)?;
    let body: String = row.get(4)?;
    let alert = match serde_json::from_str::<Alert>(&body) {
        Ok(alert) => alert,
        Err(e) => {
            let reason = e.to_string();
            return Ok(Err(StoreError::Corrupt {
                what: "alert",
                id: id.to_string(),
                reason,
            }));
        }
    };
    Ok(Ok(StoredAlert {
        id,
        source: AlertSource::parse(&row.get::<_, String>(1)?),
        received_at: row.get(2)?,
        fired_at: row.get(3)?,
        alert,
    }))
}

fn investigation_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<Result<InvestigationRecord, StoreError>> {
    let id: String = row.get(0)?;
    let state: String = row.get(3)?;
    let Some(state) = InvestigationState::parse(&state) else {
        let reason = format!("unknown state '{state}'");
        return Ok(Err(StoreError::Corrupt {
            what: "investigation",
            id,
            reason,
        }));
    };
    Ok(Ok(InvestigationRecord {
        id,
        alert_id: row.get(1)?,
        search_name: row.get(2)?,
        state,
        attempts: row.get(4)?,
        queued_at: row.get(5)?,
        started_at: row.get(6)?,
        finished_at: row.get(7)?,
        error: row.get(8)?,
        severity: row.get(9)?,
    }))
}

fn insert_alert(
    conn: &Connection,
    alert: &Alert,
    source: AlertSource,
) -> Result<Ingest, StoreError> {
    let key = dedup_key(alert);
    let body = serde_json::to_string(alert).expect("alerts serialise");
    let inserted: Option<i64> = conn
        .prepare_cached(
            "INSERT INTO alerts (sid, search_name, dedup_key, body, source, received_at, fired_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                alert.sid,
                alert.search_name,
                key,
                body,
                source.as_str(),
                now(),
                fired_at(alert)
            ],
            |r| r.get(0),
        )
        .optional()?;
    match inserted {
        Some(alert_id) => {
            let investigation = queue_investigation(conn, alert_id)?;
            Ok(Ingest::Queued {
                alert: alert_id,
                investigation,
            })
        }
        None => {
            let existing =
                conn.query_row("SELECT id FROM alerts WHERE dedup_key = ?1", [key], |r| {
                    r.get(0)
                })?;
            Ok(Ingest::Duplicate { alert: existing })
        }
    }
}

/// Adds a queued investigation of an alert, named `inv-<alert>-<n>`.
fn queue_investigation(conn: &Connection, alert_id: i64) -> Result<String, StoreError> {
    let previous: i64 = conn.query_row(
        "SELECT count(*) FROM investigations WHERE alert_id = ?1",
        [alert_id],
        |r| r.get(0),
    )?;
    let id = format!("inv-{alert_id}-{}", previous + 1);
    conn.prepare_cached(
        "INSERT INTO investigations (id, alert_id, state, queued_at) VALUES (?1, ?2, 'queued', ?3)",
    )?
    .execute(params![id, alert_id, now()])?;
    Ok(id)
}

fn claim_next(conn: &Connection) -> Result<Option<ClaimedInvestigation>, StoreError> {
    let next = conn
        .prepare_cached(
            "SELECT i.seq, i.id, i.alert_id, a.body FROM investigations i
             JOIN alerts a ON a.id = i.alert_id
             WHERE i.state = 'queued' ORDER BY i.seq LIMIT 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    let Some((seq, id, alert_id, body)) = next else {
        return Ok(None);
    };
    conn.prepare_cached(
        "UPDATE investigations SET state = 'running', attempts = attempts + 1, started_at = ?2
         WHERE seq = ?1",
    )?
    .execute(params![seq, now()])?;
    let alert = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
        what: "alert",
        id: alert_id.to_string(),
        reason: e.to_string(),
    })?;
    Ok(Some(ClaimedInvestigation {
        id,
        alert_id,
        alert,
    }))
}

fn complete(conn: &Connection, id: &str, report: &Report) -> Result<bool, StoreError> {
    let running: Option<String> = conn
        .query_row(
            "SELECT state FROM investigations WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    if running.as_deref() != Some("running") {
        return Ok(false);
    }
    conn.execute("DELETE FROM steps WHERE investigation_id = ?1", [id])?;
    conn.execute("DELETE FROM evidence WHERE investigation_id = ?1", [id])?;
    let mut step = conn.prepare_cached(
        "INSERT INTO steps (investigation_id, step_index, name, record) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for record in &report.steps {
        let json = serde_json::to_string(record).expect("steps serialise");
        step.execute(params![id, record.index as i64, record.name, json])?;
    }
    let mut evidence = conn.prepare_cached(
        "INSERT INTO evidence (investigation_id, evidence_id, query, record) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for record in &report.evidence {
        let json = serde_json::to_string(record).expect("evidence serialises");
        evidence.execute(params![id, record.id.to_string(), record.query, json])?;
    }
    let body = serde_json::to_string(report).expect("reports serialise");
    conn.execute(
        "INSERT OR REPLACE INTO reports (investigation_id, severity, generated_at, body)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            id,
            report.severity.level.as_str(),
            report.generated_at,
            body
        ],
    )?;
    conn.execute(
        "UPDATE investigations SET state = 'complete', finished_at = ?2, error = NULL WHERE id = ?1",
        params![id, now()],
    )?;
    Ok(true)
}

impl IncidentStore for SqliteStore {
    fn save_alert(&self, alert: &Alert, source: AlertSource) -> Result<Ingest, StoreError> {
        let alert = alert.clone();
        self.inner
            .writer
            .write_blocking(move |conn| insert_alert(conn, &alert, source))
    }

    fn load_report(&self, investigation: &str) -> Result<Option<Report>, StoreError> {
        self.read(|conn| {
            let body: Option<String> = conn
                .query_row(
                    "SELECT r.body FROM reports r JOIN investigations i ON i.id = r.investigation_id
                     WHERE r.investigation_id = ?1 AND i.state = 'complete'",
                    [investigation],
                    |r| r.get(0),
                )
                .optional()?;
            body.map(|body| {
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    what: "report",
                    id: investigation.to_string(),
                    reason: e.to_string(),
                })
            })
            .transpose()
        })
    }

    fn list_reports(&self) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM investigations WHERE state = 'complete' ORDER BY seq",
            )?;
            let ids = stmt.query_map([], |r| r.get(0))?;
            Ok(ids.collect::<Result<Vec<String>, _>>()?)
        })
    }
}
