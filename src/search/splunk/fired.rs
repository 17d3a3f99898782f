//! Splunk's fired-alert history as a catch-up source.
//!
//! [`SplunkFiredAlerts`] lists every fired alert the credentials can see at
//! `/services/alerts/fired_alerts/-`, keeps those of Argus's saved searches
//! triggered at or after the requested time, and reads each one's first result
//! row from its search job (`/services/search/jobs/{sid}/results`). Each alert
//! is built as Splunk's webhook action would have sent it, so the store
//! de-duplicates a caught-up alert against the same alert delivered by the
//! webhook.
//!
//! Splunk keeps a fired alert only until its `alert.expires` time
//! (savedsearches.conf, 24h by default) and a job's results only while the job
//! lives, so older alerts cannot be caught up. A fired alert whose job has
//! expired is skipped with a warning.
//!
//! NOTE: the entry fields read here (`content.sid`, `content.savedsearch_name`,
//! `content.trigger_time`, `acl.app`, `acl.owner`) follow Splunk's REST API
//! reference and are tested against the REST test server only, not a live
//! Splunk. Results are read from the v1 jobs endpoint, which Splunk 9 still
//! serves but marks deprecated.

use async_trait::async_trait;
use serde_json::{json, Value as Json};
use tracing::{info, warn};

use super::client::{login, network_error, status_error};
use super::config::{Credentials, SplunkSettings};
use super::tls;
use crate::alert::Alert;
use crate::search::SearchError;
use crate::store::catchup::{CatchUpError, FiredAlertSource};

/// Listing of every fired alert, across all saved searches (the `-` group).
pub const FIRED_ALERTS: &str = "/services/alerts/fired_alerts/-";

/// Names of the saved searches in `splunk/savedsearches.conf`, whose alerts
/// Argus investigates.
pub const DEFAULT_SAVED_SEARCHES: [&str; 5] = [
    "SSH Brute Force Detected",
    "Suspicious Outbound Connection",
    "Cryptomining Activity Detected",
    "Windows Authentication Failure Spike",
    "Suspicious Web Request Detected",
];

/// One entry of the fired-alerts listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiredAlert {
    pub sid: String,
    pub savedsearch_name: String,
    /// Epoch seconds when the alert fired.
    pub trigger_time: i64,
    pub app: Option<String>,
    pub owner: Option<String>,
}

/// Reads fired alerts of chosen saved searches from Splunk's REST API.
pub struct SplunkFiredAlerts {
    settings: SplunkSettings,
    http: reqwest::Client,
    saved_searches: Vec<String>,
    web_url: Option<String>,
}

impl SplunkFiredAlerts {
    /// Builds the source with the backend's TLS settings and the
    /// [`DEFAULT_SAVED_SEARCHES`]; no request is sent yet.
    pub fn new(settings: SplunkSettings) -> Result<Self, SearchError> {
        let http = tls::build_client(&settings)?;
        Ok(SplunkFiredAlerts {
            settings,
            http,
            saved_searches: DEFAULT_SAVED_SEARCHES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            web_url: None,
        })
    }

    /// Replaces the saved searches whose alerts are caught up.
    pub fn with_saved_searches(mut self, names: Vec<String>) -> Self {
        self.saved_searches = names;
        self
    }

    /// Sets Splunk Web's base URL (such as `https://splunk.example.com:8000`),
    /// used to build each alert's `results_link` as the webhook does. Without
    /// it, caught-up alerts have no `results_link`.
    pub fn with_web_url(mut self, url: impl Into<String>) -> Self {
        self.web_url = Some(url.into().trim_end_matches('/').to_string());
        self
    }

    /// Lists fired alerts of the chosen saved searches triggered at or after
    /// `since` (all of them when `None`), oldest first.
    pub async fn list(
        &self,
        authorization: &str,
        since: Option<i64>,
    ) -> Result<Vec<FiredAlert>, SearchError> {
        let url = self.url(&["services", "alerts", "fired_alerts", "-"], "0")?;
        let body = self.get_json(url, authorization).await?;
        let mut fired: Vec<FiredAlert> = parse_fired_alerts(&body)
            .into_iter()
            .filter(|alert| self.saved_searches.contains(&alert.savedsearch_name))
            .filter(|alert| since.is_none_or(|since| alert.trigger_time >= since))
            .collect();
        fired.sort_by_key(|alert| alert.trigger_time);
        Ok(fired)
    }

    /// Reads the first result row of the job `sid`, or `None` when the job
    /// no longer exists (HTTP 404).
    pub async fn first_result(
        &self,
        authorization: &str,
        sid: &str,
    ) -> Result<Option<Json>, SearchError> {
        let url = self.url(&["services", "search", "jobs", sid, "results"], "1")?;
        match self.get_json(url, authorization).await {
            Ok(body) => Ok(Some(body["results"].get(0).cloned().unwrap_or(Json::Null))),
            Err(SearchError::Server { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Builds the alert the webhook action would have sent for `fired`.
    pub fn to_alert(&self, fired: &FiredAlert, result: Json) -> Result<Alert, SearchError> {
        let results_link = match (&self.web_url, &fired.app) {
            (Some(web), Some(app)) => Some(format!("{web}/app/{app}/@go?sid={}", fired.sid)),
            _ => None,
        };
        let payload = json!({
            "sid": fired.sid,
            "search_name": fired.savedsearch_name,
            "app": fired.app,
            "owner": fired.owner,
            "results_link": results_link,
            "result": result,
        });
        serde_json::from_value(payload).map_err(|e| {
            SearchError::Protocol(format!(
                "invalid first result row in job {}: {e}",
                fired.sid
            ))
        })
    }

    async fn fetch(&self, since: Option<i64>) -> Result<Vec<Alert>, SearchError> {
        let authorization = self.authorization().await?;
        let listed = self.list(&authorization, since).await?;
        let mut alerts = Vec::with_capacity(listed.len());
        for fired in &listed {
            match self.first_result(&authorization, &fired.sid).await? {
                Some(result) => alerts.push(self.to_alert(fired, result)?),
                None => warn!(sid = %fired.sid, search = %fired.savedsearch_name,
                    "fired alert skipped: its search job has expired"),
            }
        }
        info!(
            listed = listed.len(),
            read = alerts.len(),
            ?since,
            "read Splunk's fired alerts"
        );
        Ok(alerts)
    }

    /// Returns the `Authorization` header value, logging in for a session
    /// key when the settings hold a username and password.
    async fn authorization(&self) -> Result<String, SearchError> {
        match &self.settings.credentials {
            Credentials::Token(token) => Ok(format!("Bearer {token}")),
            Credentials::Password { username, password } => {
                let base = self.settings.base_url();
                let key = login(&self.http, &base, username, password).await?;
                Ok(format!("Splunk {key}"))
            }
        }
    }

    /// Builds `base/segments...?output_mode=json&count=N`, escaping each segment.
    fn url(&self, segments: &[&str], count: &str) -> Result<reqwest::Url, SearchError> {
        let base = self.settings.base_url();
        let mut url = reqwest::Url::parse(&base)
            .map_err(|e| SearchError::Unavailable(format!("invalid Splunk URL {base}: {e}")))?;
        url.path_segments_mut()
            .map_err(|_| SearchError::Unavailable(format!("invalid Splunk URL {base}")))?
            .pop_if_empty()
            .extend(segments);
        url.query_pairs_mut()
            .append_pair("output_mode", "json")
            .append_pair("count", count);
        Ok(url)
    }

    async fn get_json(&self, url: reqwest::Url, authorization: &str) -> Result<Json, SearchError> {
        let path = url.path().to_string();
        let response = self
            .http
            .get(url)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .timeout(self.settings.search_timeout)
            .send()
            .await
            .map_err(network_error)?;
        let status = response.status();
        let body = response.text().await.map_err(network_error)?;
        if !status.is_success() {
            return Err(status_error(status.as_u16(), &body));
        }
        serde_json::from_str(&body)
            .map_err(|e| SearchError::Protocol(format!("{path} returned invalid JSON: {e}")))
    }
}

#[async_trait]
impl FiredAlertSource for SplunkFiredAlerts {
    fn name(&self) -> String {
        format!("Splunk at {}", self.settings.base_url())
    }

    async fn fired_since(&self, since: Option<i64>) -> Result<Vec<Alert>, CatchUpError> {
        self.fetch(since)
            .await
            .map_err(|error| CatchUpError::Source {
                source_name: self.name(),
                reason: error.to_string(),
            })
    }
}

/// Reads the entries of a fired-alerts listing in `output_mode=json`. Entries
/// without a `sid`, a saved search name or a trigger time are left out.
pub fn parse_fired_alerts(body: &Json) -> Vec<FiredAlert> {
    let Some(entries) = body["entry"].as_array() else {
        return Vec::new();
    };
    entries.iter().filter_map(parse_entry).collect()
}

fn parse_entry(entry: &Json) -> Option<FiredAlert> {
    let content = &entry["content"];
    let text = |value: &Json| value.as_str().map(str::to_string);
    // Splunk sends trigger_time as a number; a string is accepted too.
    let trigger_time = match &content["trigger_time"] {
        Json::Number(n) => n.as_f64().map(|t| t as i64),
        Json::String(s) => s.trim().parse::<f64>().ok().map(|t| t as i64),
        _ => None,
    }?;
    Some(FiredAlert {
        sid: text(&content["sid"])?,
        savedsearch_name: text(&content["savedsearch_name"])?,
        trigger_time,
        app: text(&entry["acl"]["app"]),
        owner: text(&entry["acl"]["owner"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sid: &str, name: &str, time: Json) -> Json {
        json!({
            "name": sid,
            "acl": {"app": "argus_alerts", "owner": "nobody"},
            "content": {"sid": sid, "savedsearch_name": name, "trigger_time": time,
                        "severity": 3, "triggered_alerts": 1},
        })
    }

    #[test]
    fn listing_entries_parse() {
        let body = json!({"entry": [entry("s1", "SSH Brute Force Detected", json!(1785683100))]});
        let fired = parse_fired_alerts(&body);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].sid, "s1");
        assert_eq!(fired[0].savedsearch_name, "SSH Brute Force Detected");
        assert_eq!(fired[0].trigger_time, 1785683100);
        assert_eq!(fired[0].app.as_deref(), Some("argus_alerts"));
        assert_eq!(fired[0].owner.as_deref(), Some("nobody"));
    }

    #[test]
    fn string_trigger_time_parses() {
        let body = json!({"entry": [entry("s1", "x", json!("1785683100.5"))]});
        assert_eq!(parse_fired_alerts(&body)[0].trigger_time, 1785683100);
    }

    #[test]
    fn entry_without_sid_is_left_out() {
        let mut bad = entry("s1", "x", json!(1));
        bad["content"].as_object_mut().unwrap().remove("sid");
        let body = json!({"entry": [bad, entry("s2", "x", json!(2))]});
        let fired = parse_fired_alerts(&body);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].sid, "s2");
    }

    #[test]
    fn listing_without_entries_is_empty() {
        assert!(parse_fired_alerts(&json!({"messages": []})).is_empty());
    }
}
