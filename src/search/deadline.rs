//! A time budget for all searches of one investigation.
//!
//! [`DeadlineBackend`] wraps any backend; once the budget is spent, running
//! searches are cut off and later ones fail at once with
//! [`SearchError::BudgetSpent`], which the agent records as failed steps, so
//! the investigation still ends with a report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{BackendInfo, Schema, SearchBackend, SearchError, SearchResults};

/// A backend whose searches share one time budget, counted from creation.
pub struct DeadlineBackend {
    inner: Arc<dyn SearchBackend>,
    budget: Duration,
    started: Instant,
}

impl DeadlineBackend {
    /// Wraps `inner`; create one per investigation, as the clock starts now.
    pub fn new(inner: Arc<dyn SearchBackend>, budget: Duration) -> Self {
        DeadlineBackend { inner, budget, started: Instant::now() }
    }

    async fn within<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, SearchError>>,
    ) -> Result<T, SearchError> {
        let spent = SearchError::BudgetSpent { seconds: self.budget.as_secs() };
        let remaining = self.budget.saturating_sub(self.started.elapsed());
        if remaining.is_zero() {
            return Err(spent);
        }
        tokio::time::timeout(remaining, work).await.unwrap_or(Err(spent))
    }
}

#[async_trait]
impl SearchBackend for DeadlineBackend {
    fn info(&self) -> BackendInfo {
        self.inner.info()
    }

    async fn search(&self, spl: &str) -> Result<SearchResults, SearchError> {
        self.within(self.inner.search(spl)).await
    }

    async fn schema(&self) -> Result<Schema, SearchError> {
        self.within(self.inner.schema()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Slow;

    #[async_trait]
    impl SearchBackend for Slow {
        fn info(&self) -> BackendInfo {
            BackendInfo { kind: "test".into(), description: "slow".into() }
        }
        async fn search(&self, _spl: &str) -> Result<SearchResults, SearchError> {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(SearchResults::default())
        }
        async fn schema(&self) -> Result<Schema, SearchError> {
            Ok(Schema::default())
        }
    }

    #[tokio::test]
    async fn budget_cuts_and_blocks_searches() {
        let backend = DeadlineBackend::new(Arc::new(Slow), Duration::from_millis(50));
        let first = backend.search("x").await.unwrap_err();
        assert!(matches!(first, SearchError::BudgetSpent { .. }), "{first}");
        let started = Instant::now();
        let second = backend.search("x").await.unwrap_err();
        assert!(matches!(second, SearchError::BudgetSpent { .. }), "{second}");
        assert!(started.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn search_within_budget_passes() {
        let backend = DeadlineBackend::new(Arc::new(Slow), Duration::from_secs(5));
        assert_eq!(backend.search("x").await.unwrap(), SearchResults::default());
    }
}
