//! Path and query parameters of the listener's routes, read with errors that
//! name the parameter and the expected value.
//!
//! axum's own `Path` and `Query` rejections are plain text ("Invalid URL:
//! Cannot parse ..."), so the routes use these extractors instead and every
//! rejection reaches the client as an [`ApiError`] JSON body.

use std::str::FromStr;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;

use super::error::ApiError;

/// A path parameter as text, with rejections mapped to [`ApiError`].
pub struct PathText(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathText {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                let reason = rejection.body_text().to_lowercase();
                ApiError::BadRequest(format!("the URL path cannot be read ({reason})"))
            })?;
        Ok(PathText(text))
    }
}

/// The `{id}` of the `/api/alerts/{id}` routes: the store's numeric alert ID.
pub struct AlertId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for AlertId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let PathText(text) = PathText::from_request_parts(parts, state).await?;
        text.parse().map(AlertId).map_err(|_| {
            ApiError::invalid_parameter(
                "alert id",
                &text,
                "a whole number, such as an `id` listed by GET /api/alerts",
            )
        })
    }
}

/// The query string's parameters in order, as decoded text.
pub struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                let reason = rejection.body_text().to_lowercase();
                ApiError::BadRequest(format!("the query string cannot be read ({reason})"))
            })?;
        Ok(QueryParams(pairs))
    }
}

impl QueryParams {
    /// Returns the value of `name`, or `None` when absent. Parameters
    /// that the route does not read are ignored.
    ///
    /// # Errors
    /// [`ApiError::RepeatedParameter`] when `name` is given more than once.
    pub fn text(&self, name: &'static str) -> Result<Option<&str>, ApiError> {
        let mut values = self.0.iter().filter(|(key, _)| key == name);
        let first = values.next().map(|(_, value)| value.as_str());
        if values.next().is_some() {
            return Err(ApiError::RepeatedParameter(name));
        }
        Ok(first)
    }

    /// Parses the value of `name`, or returns `None` when absent.
    ///
    /// # Errors
    /// [`ApiError::InvalidParameter`] naming `name` and `expected` when the
    /// value does not parse, and [`ApiError::RepeatedParameter`].
    pub fn parse<T: FromStr>(
        &self,
        name: &'static str,
        expected: &'static str,
    ) -> Result<Option<T>, ApiError> {
        let Some(text) = self.text(name)? else {
            return Ok(None);
        };
        let value = text.parse().map_err(|_| {
            ApiError::invalid_parameter(format!("query parameter {name}"), text, expected)
        })?;
        Ok(Some(value))
    }
}
