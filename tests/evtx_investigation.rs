//! Investigations of "unknown" alerts over the real Windows event logs under
//! `../shared/data/real/evtx`. An alert that names only a host finds that
//! file's events. The report maps at least one ATT&CK technique under the
//! tactic of the folder the file is filed in.

mod common;

use std::path::Path;

use argus::report::Report;

/// (file, the host most of its records name, the folder's ATT&CK tactic).
/// Hosts were read with `evtx_dump -o jsonl FILE | grep -o '"Computer":"[^"]*"'
/// | sort | uniq -c` from the `evtx` crate 0.15.1.
const CASES: &[(&str, &str, &str)] = &[
    ("Command and Control/DE_RDP_Tunneling_TerminalServices-RemoteConnectionManagerOperational_1149.evtx",
        "PC01.example.corp", "command-and-control"),
    ("Command and Control/bits_openvpn.evtx", "MSEDGEWIN10", "command-and-control"),
    ("Credential Access/LsassSilentProcessExit_process_exit_monitor_3001_lsass.evtx", "MSEDGEWIN10",
        "credential-access"),
    ("Credential Access/kerberos_pwd_spray_4771.evtx", "01566s-win16-ir.threebeesco.com",
        "credential-access"),
    ("Defense Evasion/DE_ProcessHerpaderping_Sysmon_11_10_1_7.evtx", "LAPTOP-JU4M3I0E",
        "defense-evasion"),
    ("Defense Evasion/de_hiding_files_via_attrib_cmdlet.evtx", "DC1.insecurebank.local",
        "defense-evasion"),
    ("Discovery/4799_remote_local_groups_enumeration.evtx", "01566s-win16-ir.threebeesco.com",
        "discovery"),
    ("Discovery/discovery_bloodhound.evtx", "WIN-77LTAPHIQ1R.example.corp", "discovery"),
    ("Execution/exec_msxsl_xsl_sysmon_1_7.evtx", "IEWIN7", "execution"),
    ("Execution/exec_sysmon_lobin_regsvr32_sct.evtx", "IEWIN7", "execution"),
    ("Lateral Movement/LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx", "MSEDGEWIN10",
        "lateral-movement"),
    ("Lateral Movement/lm_sysmon_18_remshell_over_namedpipe.evtx", "IEWIN7", "lateral-movement"),
    ("Persistence/persist_bitsadmin_Microsoft-Windows-Bits-Client-Operational.evtx", "IEWIN7",
        "persistence"),
    ("Persistence/persistence_security_dcshadow_4742.evtx", "DC1.insecurebank.local", "persistence"),
    ("Privilege Escalation/Sysmon_UACME_38.evtx", "MSEDGEWIN10", "privilege-escalation"),
    ("Privilege Escalation/privesc_spoolsv_spl_file_write_sysmon11.evtx", "MSEDGEWIN10",
        "privilege-escalation"),
];

fn unknown_alert(host: &str) -> String {
    serde_json::json!({
        "sid": "scheduler__nobody__search__RMD5evtx",
        "search_name": "Unusual Windows Activity",
        "result": {"host": host},
    })
    .to_string()
}

fn investigate_file(path: &Path, host: &str) -> Report {
    let store = common::store_from(path);
    let (report, _) = common::investigate(store, &unknown_alert(host));
    report
}

/// Returns whether any evidence sample came from `path`.
fn cites_file(report: &Report, path: &Path) -> bool {
    let source = path.to_string_lossy();
    report.evidence.iter().flat_map(|e| &e.samples).any(|row| {
        row.get("source").and_then(|v| v.first()) == Some(source.as_ref())
    })
}

#[test]
fn evtx_unknown_alert_finds_file_events() {
    let Some(root) = common::shared_data("real/evtx") else { return };
    for (file, host, _) in CASES {
        let path = root.join(file);
        let report = investigate_file(&path, host);
        assert!(cites_file(&report, &path), "{file}: no evidence from the file");
    }
}

#[test]
fn evtx_unknown_alert_maps_folder_tactic() {
    let Some(root) = common::shared_data("real/evtx") else { return };
    let mut missing = Vec::new();
    for (file, host, tactic) in CASES {
        let report = investigate_file(&root.join(file), host);
        let mapped = report.techniques.iter().any(|t| t.tactics.iter().any(|x| x == tactic));
        if !mapped {
            let found: Vec<String> = report
                .techniques
                .iter()
                .map(|t| format!("{} {:?}", t.id, t.tactics))
                .collect();
            missing.push(format!("{file}: no {tactic} technique; found {found:?}"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn evtx_index_backend_maps_same_tactic() {
    use std::sync::Arc;

    use argus::agent::playbook::PlaybookPlanner;
    use argus::agent::sink::NullSink;
    use argus::agent::{Agent, AgentConfig};
    use argus::alert::Alert;
    use argus::index::EvidenceIndex;
    use argus::search::local::LocalBackend;

    let Some(root) = common::shared_data("real/evtx") else { return };
    let (file, host, tactic) = CASES[9];
    let folder = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    index.ingest_path(&root.join(file)).unwrap();
    let backend = Arc::new(LocalBackend::with_index(index, "indexed evidence"));
    let agent = Agent::new(backend, Arc::new(PlaybookPlanner), Arc::new(NullSink), AgentConfig::default());
    let alert = Alert::from_json(&unknown_alert(host)).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime.block_on(agent.investigate(&alert)).unwrap();

    assert!(cites_file(&report, &root.join(file)), "{file}: no evidence from the file");
    let mapped = report.techniques.iter().any(|t| t.tactics.iter().any(|x| x == tactic));
    assert!(mapped, "{file}: no {tactic} technique");
}
