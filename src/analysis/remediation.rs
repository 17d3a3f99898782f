//! Stub: replaced by the real module.
use super::*;
use super::attack::Catalogue;
pub fn recommend(_f: &[Finding], _t: &[TechniqueHit], _c: &Catalogue) -> Vec<RemediationStep> { vec![] }
