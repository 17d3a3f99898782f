//! A chat model and a search backend that wait a fixed time before answering,
//! for timing an investigation without a real model or Splunk.
//!
//! Both wait with `tokio::time::sleep`, so under a paused tokio clock the wait
//! advances virtual time only, and a test can check a time bound exactly.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use argus::llm::scripted::ScriptedModel;
use argus::llm::{ChatModel, ChatRequest, ChatResponse, LlmError, ModelInfo};
use argus::search::{BackendInfo, Schema, SearchBackend, SearchError, SearchResults};

/// A scripted model that responds to each call after `latency`.
pub struct DelayedModel {
    pub inner: ScriptedModel,
    pub latency: Duration,
}

#[async_trait]
impl ChatModel for DelayedModel {
    fn info(&self) -> ModelInfo {
        self.inner.info()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        tokio::time::sleep(self.latency).await;
        let mut response = self.inner.complete(request).await?;
        response.duration = self.latency;
        Ok(response)
    }
}

/// A backend that returns each search and schema result after `latency`,
/// and counts the searches.
pub struct DelayedBackend {
    pub inner: Arc<dyn SearchBackend>,
    pub latency: Duration,
    pub searches: AtomicUsize,
}

impl DelayedBackend {
    pub fn new(inner: Arc<dyn SearchBackend>, latency: Duration) -> DelayedBackend {
        DelayedBackend {
            inner,
            latency,
            searches: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl SearchBackend for DelayedBackend {
    fn info(&self) -> BackendInfo {
        self.inner.info()
    }

    async fn search(&self, spl: &str) -> Result<SearchResults, SearchError> {
        self.searches.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.latency).await;
        self.inner.search(spl).await
    }

    async fn schema(&self) -> Result<Schema, SearchError> {
        tokio::time::sleep(self.latency).await;
        self.inner.schema().await
    }
}
