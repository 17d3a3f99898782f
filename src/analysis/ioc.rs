//! Stub: replaced by the real module.
use super::Indicator;
pub fn extract(_text: &str) -> Vec<Indicator> { Vec::new() }
