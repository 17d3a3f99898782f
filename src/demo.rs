//! The bundled demo: evidence and alerts written for the project, embedded in
//! the binary so the first investigation needs no files and no network.
//!
//! The story (one day, 2026-08-02 UTC): an SSH brute force from 5.101.40.81
//! against gacrux, a successful ec2-user login from 91.207.175.249,
//! reconnaissance and tooling, C2 beacons to 91.207.175.249; coinhive mining
//! lookups from mercury; Windows logon failures on hildegard from
//! 192.168.250.100; a web attack from 45.77.65.211 on brewertalk.
//! `demo/STORY.md` gives the exact counts.

use std::path::PathBuf;

use crate::evidence::{EvidenceStore, IngestSummary};

macro_rules! demo_file {
    ($path:literal) => {
        ($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)) as &[u8])
    };
}

/// The demo evidence files, by their path in the repository.
const EVIDENCE: [(&str, &[u8]); 6] = [
    demo_file!("demo/evidence/gacrux/secure.log"),
    demo_file!("demo/evidence/gacrux/process.json"),
    demo_file!("demo/evidence/network/stream_tcp.json"),
    demo_file!("demo/evidence/network/stream_dns.json"),
    demo_file!("demo/evidence/network/stream_http.json"),
    demo_file!("demo/evidence/windows/hildegard_security.json"),
];

/// Names accepted by `argus investigate --demo`.
pub const ALERT_NAMES: [&str; 5] =
    ["ssh_brute_force", "suspicious_outbound", "cryptomining", "windows_auth_failure", "web_attack"];

const ALERTS: [&str; 5] = [
    include_str!("../demo/alerts/ssh_brute_force.json"),
    include_str!("../demo/alerts/suspicious_outbound.json"),
    include_str!("../demo/alerts/cryptomining.json"),
    include_str!("../demo/alerts/windows_auth_failure.json"),
    include_str!("../demo/alerts/web_attack.json"),
];

/// Returns a demo alert's webhook JSON by name.
pub fn alert_json(name: &str) -> Option<&'static str> {
    ALERT_NAMES.iter().position(|n| *n == name).map(|i| ALERTS[i])
}

/// Ingests the embedded demo evidence into a store.
pub fn ingest(store: &mut EvidenceStore) -> IngestSummary {
    let mut summary = IngestSummary::default();
    for (path, bytes) in EVIDENCE {
        summary.add(store.ingest_bytes(path, bytes, None));
    }
    summary
}

/// The demo evidence folder in the source tree, for tests that ingest it from disk.
pub fn evidence_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/evidence"))
}
