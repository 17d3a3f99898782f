//! Helpers for the listener tests: an app over a temporary store.

#![allow(dead_code)]

use std::sync::Arc;

use argus::listener::{router, AppState, ListenerConfig, Secrets};
use argus::store::SqliteStore;
use axum::Router;
use tokio::sync::{broadcast, Notify};

pub const HOOK_TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const WEBHOOK_SECRET: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
pub const API_TOKEN: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub store: SqliteStore,
    pub state: AppState,
}

impl TestApp {
    pub fn new() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("argus.db")).unwrap();
        let secrets = Secrets {
            hook_token: HOOK_TOKEN.into(),
            webhook_secret: WEBHOOK_SECRET.into(),
            api_token: API_TOKEN.into(),
        };
        let state = AppState {
            store: store.clone(),
            secrets: Arc::new(secrets),
            config: Arc::new(ListenerConfig::default()),
            wake: Arc::new(Notify::new()),
            events: broadcast::channel(64).0,
            workers: 0,
        };
        TestApp { dir, store, state }
    }

    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("argus.db")).unwrap()
    }

    /// Rows in every table that a request could write to.
    pub fn stored_rows(&self) -> i64 {
        let db = self.db();
        ["alerts", "investigations", "steps", "evidence", "reports"]
            .iter()
            .map(|t| {
                db.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .unwrap()
            })
            .sum()
    }
}

pub fn demo_alert(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/demo/alerts/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}
pub mod load;
