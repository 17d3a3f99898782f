//! Stub: replaced by the real module.
use crate::event::Row;
use super::AnalysisError;
pub struct RuleMatch { pub rule_id: String, pub title: String, pub level: String, pub techniques: Vec<String> }
pub struct Mapper;
impl Mapper {
    pub fn bundled() -> Result<&'static Mapper, AnalysisError> { Ok(&Mapper) }
    pub fn match_row(&self, _row: &Row) -> Vec<RuleMatch> { Vec::new() }
}
