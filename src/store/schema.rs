//! The store's schema as ordered migrations, tracked by `PRAGMA user_version`.
//!
//! Migration `n` (1-based) moves a database from version `n - 1` to `n`.
//! Migrations are only ever appended: a shipped script is never edited, so
//! every database reaches the same schema whatever version it started at.

use rusqlite::Connection;

use super::StoreError;

/// The migration scripts, oldest first.
const MIGRATIONS: &[&str] = &[
    // 1: alerts, the investigation queue, reports and their parts.
    "
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sid TEXT,
        search_name TEXT,
        dedup_key TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('webhook', 'api', 'catch_up')),
        received_at TEXT NOT NULL,
        fired_at INTEGER
    );
    CREATE TABLE investigations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'complete', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        queued_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        error TEXT
    );
    CREATE INDEX investigations_by_state ON investigations (state, seq);
    CREATE INDEX investigations_by_alert ON investigations (alert_id);
    CREATE TABLE steps (
        investigation_id TEXT NOT NULL REFERENCES investigations(id) ON DELETE CASCADE,
        step_index INTEGER NOT NULL,
        name TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (investigation_id, step_index)
    );
    CREATE TABLE evidence (
        investigation_id TEXT NOT NULL REFERENCES investigations(id) ON DELETE CASCADE,
        evidence_id TEXT NOT NULL,
        query TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (investigation_id, evidence_id)
    );
    CREATE TABLE reports (
        investigation_id TEXT PRIMARY KEY REFERENCES investigations(id) ON DELETE CASCADE,
        severity TEXT NOT NULL,
        generated_at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE model_calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        investigation_id TEXT REFERENCES investigations(id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        request TEXT NOT NULL,
        response TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        duration_ms REAL,
        called_at TEXT NOT NULL
    );
    CREATE TABLE cursors (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    ",
];

/// The schema version this build creates and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`SCHEMA_VERSION`], each migration in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, script) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(script)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn migrate_creates_every_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let expected = [
            "alerts",
            "cursors",
            "evidence",
            "investigations",
            "model_calls",
            "reports",
            "steps",
        ];
        assert_eq!(tables(&conn), expected);
    }

    #[test]
    fn migrate_sets_user_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 1);
    }

    #[test]
    fn migrate_twice_is_harmless() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(tables(&conn).len(), 7);
    }

    #[test]
    fn migrate_rejects_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found: 99, .. }),
            "{err}"
        );
    }
}
