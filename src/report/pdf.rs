//! Stub: replaced by the real module.
pub fn render(_r: &super::Report) -> Result<Vec<u8>, super::ReportError> { Ok(vec![]) }
