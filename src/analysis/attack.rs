//! The bundled MITRE ATT&CK Enterprise catalogue (v18.1), compacted.
//!
//! The JSON file in `data/attack/` is compiled into the binary and parsed once, on first
//! use, so technique names, tactics and mitigations are available offline. Each technique
//! carries the first sentences of its ATT&CK description and the mitigations ATT&CK links
//! to it. `data/attack/NOTICE` carries the ATT&CK terms-of-use notice; reports print
//! [`NOTICE`].

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::AnalysisError;

/// The attribution line reports print wherever they show ATT&CK data.
pub const NOTICE: &str = "MITRE ATT&CK® Enterprise v18.1, © The MITRE Corporation, used under \
the ATT&CK Terms of Use (https://attack.mitre.org/resources/legal-and-branding/terms-of-use/).";

/// The compacted catalogue, compiled into the binary.
const BUNDLED_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/attack/enterprise-attack-v18.1.json"
));

/// One ATT&CK technique or sub-technique.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Technique {
    /// Technique ID, such as `T1110` or `T1110.001`.
    pub id: String,
    pub name: String,
    /// Tactic short names, such as `credential-access`.
    pub tactics: Vec<String>,
    pub platforms: Vec<String>,
    /// The first sentences of the ATT&CK description.
    pub summary: String,
    pub mitigations: Vec<Mitigation>,
}

/// A mitigation as ATT&CK links it to one technique.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Mitigation {
    /// Mitigation ID, such as `M1032`.
    pub id: String,
    /// Guidance on applying the mitigation against the technique it is linked to.
    pub how: String,
}

/// A mitigation's own entry: its name and general summary.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MitigationInfo {
    pub id: String,
    pub name: String,
    pub summary: String,
}

#[derive(Deserialize)]
struct CatalogueFile {
    source: String,
    techniques: Vec<Technique>,
    mitigations: Vec<MitigationInfo>,
}

/// The ATT&CK techniques and mitigations, indexed by ID.
#[derive(Debug)]
pub struct Catalogue {
    source: String,
    techniques: Vec<Technique>,
    by_id: HashMap<String, usize>,
    mitigations: HashMap<String, MitigationInfo>,
}

impl Catalogue {
    /// Returns the catalogue compiled into the binary, parsing it on first use.
    ///
    /// # Panics
    /// Panics if the bundled JSON is invalid, which the unit tests rule out for the file
    /// shipped with the crate.
    pub fn bundled() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            Catalogue::from_json(BUNDLED_JSON).expect("bundled ATT&CK catalogue parses")
        })
    }

    /// Parses a catalogue in the compacted format of `data/attack/`.
    pub fn from_json(text: &str) -> Result<Catalogue, AnalysisError> {
        let file: CatalogueFile =
            serde_json::from_str(text).map_err(|e| AnalysisError::Catalogue(e.to_string()))?;
        let mut by_id = HashMap::with_capacity(file.techniques.len());
        for (index, technique) in file.techniques.iter().enumerate() {
            if by_id.insert(technique.id.clone(), index).is_some() {
                return Err(AnalysisError::Catalogue(format!(
                    "technique {} appears twice",
                    technique.id
                )));
            }
        }
        let mitigations = file
            .mitigations
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect();
        Ok(Catalogue {
            source: file.source,
            techniques: file.techniques,
            by_id,
            mitigations,
        })
    }

    /// Looks up a technique by ID; the ID is matched case-insensitively (`t1110.001` works).
    pub fn get(&self, id: &str) -> Option<&Technique> {
        let index = match self.by_id.get(id) {
            Some(index) => *index,
            None => *self.by_id.get(&id.to_ascii_uppercase())?,
        };
        self.techniques.get(index)
    }

    /// Returns the parent technique of a sub-technique (`T1110` for `T1110.001`), or `None`
    /// for a technique that is not a sub-technique or is not in the catalogue.
    pub fn parent(&self, id: &str) -> Option<&Technique> {
        let (parent, _) = id.split_once('.')?;
        self.get(parent)
    }

    /// Looks up a mitigation's name and summary by ID, such as `M1032`.
    pub fn mitigation(&self, id: &str) -> Option<&MitigationInfo> {
        self.mitigations.get(id)
    }

    /// Iterates over every technique and sub-technique, in catalogue order.
    pub fn techniques(&self) -> impl Iterator<Item = &Technique> {
        self.techniques.iter()
    }

    pub fn len(&self) -> usize {
        self.techniques.len()
    }

    pub fn is_empty(&self) -> bool {
        self.techniques.is_empty()
    }

    /// Returns the data set's own description of its origin and terms of use.
    pub fn source(&self) -> &str {
        &self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_691_techniques() {
        // Counted with: jq '.techniques | length' enterprise-attack-v18.1.json
        assert_eq!(Catalogue::bundled().len(), 691);
    }

    #[test]
    fn password_guessing_is_credential_access() {
        let technique = Catalogue::bundled()
            .get("T1110.001")
            .expect("T1110.001 present");
        assert_eq!(technique.name, "Password Guessing");
        assert_eq!(technique.tactics, vec!["credential-access".to_string()]);
    }

    #[test]
    fn password_guessing_mitigations_listed() {
        let technique = Catalogue::bundled().get("T1110.001").unwrap();
        let ids: Vec<&str> = technique
            .mitigations
            .iter()
            .map(|m| m.id.as_str())
            .collect();
        assert_eq!(ids, vec!["M1027", "M1032", "M1036", "M1051"]);
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(
            Catalogue::bundled().get("t1110.001").unwrap().id,
            "T1110.001"
        );
    }

    #[test]
    fn parent_of_subtechnique() {
        let catalogue = Catalogue::bundled();
        assert_eq!(catalogue.parent("T1110.001").unwrap().name, "Brute Force");
        assert!(catalogue.parent("T1110").is_none());
    }

    #[test]
    fn unknown_technique_is_none() {
        assert!(Catalogue::bundled().get("T9999").is_none());
    }

    #[test]
    fn mitigation_names_resolve() {
        let mitigation = Catalogue::bundled()
            .mitigation("M1032")
            .expect("M1032 present");
        assert_eq!(mitigation.name, "Multi-factor Authentication");
    }

    #[test]
    fn source_names_terms_of_use() {
        assert!(Catalogue::bundled()
            .source()
            .contains("ATT&CK Terms of Use"));
    }

    #[test]
    fn duplicate_ids_rejected() {
        let json = r#"{"source": "s", "mitigations": [], "techniques": [
            {"id": "T1", "name": "a", "tactics": [], "platforms": [], "summary": "", "mitigations": []},
            {"id": "T1", "name": "b", "tactics": [], "platforms": [], "summary": "", "mitigations": []}
        ]}"#;
        assert!(Catalogue::from_json(json).is_err());
    }
}
