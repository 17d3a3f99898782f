//! Stub: replaced by the real module.
pub const NOTICE: &str = "";
pub struct Mitigation { pub id: String, pub how: String }
pub struct Technique { pub id: String, pub name: String, pub tactics: Vec<String>, pub platforms: Vec<String>, pub summary: String, pub mitigations: Vec<Mitigation> }
pub struct Catalogue;
impl Catalogue {
    pub fn bundled() -> &'static Catalogue { &Catalogue }
    pub fn get(&self, _id: &str) -> Option<&Technique> { None }
}
