//! The group-commit writer: one thread that owns the store's write connection.
//!
//! Callers send jobs (closures over the connection) and await their replies.
//! The thread takes every job waiting at the moment, up to [`MAX_BATCH`],
//! runs each inside its own savepoint of one `BEGIN IMMEDIATE` transaction,
//! and commits once. A job whose own statements fail is rolled back to its
//! savepoint and gets its error; the other jobs of the batch are unaffected.
//! Replies are sent only after the commit has returned, so a caller that sees
//! `Ok` knows its write is on disk (with `synchronous = FULL`).

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;
use tracing::error;

use super::StoreError;

/// Jobs committed together at most.
pub const MAX_BATCH: usize = 512;

/// A unit of work for the writer thread.
trait Job: Send {
    /// Runs the job's statements inside the open transaction.
    fn apply(&mut self, conn: &Connection);
    /// Sends the job's reply once the batch has committed or failed.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

struct Typed<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Typed<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn apply(&mut self, conn: &Connection) {
        let Some(work) = self.work.take() else { return };
        if let Err(e) = conn.execute_batch("SAVEPOINT job") {
            self.result = Some(Err(e.into()));
            return;
        }
        let result = work(conn);
        let end = if result.is_ok() {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        self.result = match conn.execute_batch(end) {
            Ok(()) => Some(result),
            Err(e) => Some(Err(e.into())),
        };
    }

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        let outcome = match (commit, self.result) {
            (Err(reason), _) => Err(StoreError::Commit(reason)),
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(StoreError::WriterStopped),
        };
        // The caller may have gone away (a dropped request); nothing to do then.
        let _ = self.reply.send(outcome);
    }
}

/// The sending side of the writer thread.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub fn spawn(conn: Connection) -> Result<Writer, StoreError> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name("argus-store-writer".into())
            .spawn(move || run(conn, queue))
            .map_err(|e| StoreError::Open {
                path: "writer thread".into(),
                reason: e.to_string(),
            })?;
        Ok(Writer { jobs })
    }

    /// Runs `work` in the next batch and returns its result after the commit.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Typed {
            work: Some(work),
            result: None,
            reply,
        };
        self.jobs
            .send(Box::new(job))
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Like [`Writer::write`], for callers outside an async runtime.
    pub fn write_blocking<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Typed {
            work: Some(work),
            result: None,
            reply,
        };
        self.jobs
            .send(Box::new(job))
            .map_err(|_| StoreError::WriterStopped)?;
        answer
            .blocking_recv()
            .map_err(|_| StoreError::WriterStopped)?
    }
}

fn run(conn: Connection, queue: mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let commit = commit_batch(&conn, &mut batch);
        if let Err(reason) = &commit {
            error!(jobs = batch.len(), %reason, "store batch failed; every job in it gets an error");
        }
        for job in batch {
            job.finish(commit.clone());
        }
    }
}

fn commit_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), String> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| e.to_string())?;
    for job in batch.iter_mut() {
        job.apply(conn);
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e.to_string());
    }
    Ok(())
}
