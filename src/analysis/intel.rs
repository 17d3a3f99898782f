//! Stub: replaced by the real module.
use super::{Indicator, IntelMatch};
pub struct IntelDb;
impl IntelDb {
    pub fn bundled() -> &'static IntelDb { &IntelDb }
    pub fn lookup(&self, _indicator: &Indicator) -> Vec<IntelMatch> { Vec::new() }
}
