//! The model's wording of the attack chain and remediation, checked against the
//! analysis, on the demo SSH investigation with a scripted model.
//!
//! Technique ids come from demo/story.json: the brute force is T1110.001 and
//! `whoami` after the login is T1033. T1486 (data encrypted for impact) is not
//! in the story, so the analysis cannot have found it.

mod llm_support;

use argus::agent::grounding::ABSENCE_MARK;
use argus::llm::scripted::ScriptedModel;
use argus::report::Report;
use serde_json::{json, Value};

use llm_support::{answer, done, investigate, playbook_report, SSH_ALERT};

const HOST: &str = "gacrux.i-0920036c8ca91e501";

/// Returns a planning script that runs process execution on the target, then stops.
fn plan() -> Vec<String> {
    vec![
        answer(
            "check_process_execution",
            &format!(r#"{{"host": "{HOST}"}}"#),
            "what ran on the target?",
        ),
        done("enough"),
    ]
}

fn closing(chain: Value, remediation: Value, summary: &str) -> String {
    json!({
        "summary": summary, "verdict": "true_positive", "confidence": "high",
        "reasons": ["the login followed the brute force"], "severity": "HIGH",
        "severity_reason": "login after brute force",
        "attack_chain": chain, "remediation": remediation
    })
    .to_string()
}

fn run(chain: Value, remediation: Value, summary: &str) -> Report {
    let mut script = plan();
    script.push(closing(chain, remediation, summary));
    investigate(ScriptedModel::new(script), Default::default(), SSH_ALERT).0
}

fn stage(text: &str, techniques: &[&str], timeline: &[usize]) -> Value {
    json!({"text": text, "techniques": techniques, "timeline": timeline})
}

#[test]
fn playbook_chain_comes_from_analysis() {
    let report = playbook_report(SSH_ALERT);
    assert!(!report.attack_chain.is_empty());
    assert!(report.attack_chain.iter().all(|s| s.source == "analysis"));
    let cited: usize = report.attack_chain.iter().map(|s| s.timeline.len()).sum();
    assert_eq!(cited, report.timeline.len(), "every timeline entry is in one stage");
}

#[test]
fn model_chain_replaces_analysis_chain() {
    let chain = json!([
        stage("Password guessing against the host.", &["T1110.001"], &[0]),
        stage("The intruder checked who they were.", &["T1033"], &[1]),
    ]);
    let report = run(chain, json!([]), "Brute force, then a login.");
    let texts: Vec<&str> = report.attack_chain.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        ["Password guessing against the host.", "The intruder checked who they were."]
    );
    assert!(report.attack_chain.iter().all(|s| s.source == "model"));
    assert_eq!(report.attack_chain[0].techniques, ["T1110.001"]);
    assert_eq!(report.attack_chain[1].timeline, [1]);
}

#[test]
fn stage_with_unfound_technique_dropped() {
    let chain = json!([
        stage("Password guessing.", &["T1110.001"], &[0]),
        stage("Files were encrypted.", &["T1486"], &[1]),
    ]);
    let report = run(chain, json!([]), "Brute force.");
    assert_eq!(report.attack_chain.len(), 1);
    assert_eq!(report.attack_chain[0].text, "Password guessing.");
    let llm = report.llm.unwrap();
    assert_eq!(llm.rejected.len(), 1);
    assert_eq!(llm.rejected[0].part, "attack_chain[1]");
    assert!(llm.rejected[0].reason.contains("T1486"), "{}", llm.rejected[0].reason);
}

#[test]
fn stage_naming_unfound_technique_in_text_dropped() {
    let chain = json!([stage("Guessing, then T1486 encryption.", &["T1110.001"], &[0])]);
    let report = run(chain, json!([]), "Brute force.");
    assert!(report.attack_chain.iter().all(|s| s.source == "analysis"));
    let llm = report.llm.unwrap();
    assert!(llm.rejected[0].reason.contains("T1486"), "{}", llm.rejected[0].reason);
}

#[test]
fn stage_with_missing_timeline_entry_dropped() {
    let chain = json!([stage("Guessing.", &["T1110.001"], &[9999])]);
    let report = run(chain, json!([]), "Brute force.");
    let llm = report.llm.unwrap();
    assert!(llm.rejected[0].reason.contains("9999"), "{}", llm.rejected[0].reason);
    assert!(report.attack_chain.iter().all(|s| s.source == "analysis"));
}

#[test]
fn stage_text_marks_unverified_address() {
    let chain = json!([stage("Guessing from 203.0.113.77.", &["T1110.001"], &[0])]);
    let report = run(chain, json!([]), "Brute force.");
    assert_eq!(report.attack_chain[0].text, "Guessing from [unverified: 203.0.113.77].");
    assert!(report.llm.unwrap().unverified.contains(&"203.0.113.77".to_string()));
}

#[test]
fn stage_absence_claim_marked() {
    let chain = json!([stage("Guessing. Exfiltration did not happen.", &["T1110.001"], &[0])]);
    let report = run(chain, json!([]), "Brute force.");
    let expected = format!("Guessing. {ABSENCE_MARK}Exfiltration did not happen.]");
    assert_eq!(report.attack_chain[0].text, expected);
}

#[test]
fn summary_absence_claim_marked() {
    let report = run(json!([]), json!([]), "Brute force. No lateral movement occurred.");
    let expected = format!("Brute force. {ABSENCE_MARK}No lateral movement occurred.]");
    assert_eq!(report.summary, expected);
    assert_eq!(report.llm.unwrap().absence_claims, ["No lateral movement occurred."]);
}

#[test]
fn summary_no_evidence_wording_kept() {
    let text = "Brute force. No evidence of lateral movement was found.";
    let report = run(json!([]), json!([]), text);
    assert_eq!(report.summary, text);
}

#[test]
fn remediation_reworded_beside_analysis() {
    let remediation = json!([{"step": "R1", "text": "Act on this first."}]);
    let report = run(json!([]), remediation, "Brute force.");
    assert_eq!(report.remediation[0].model_text.as_deref(), Some("Act on this first."));
    assert!(!report.remediation[0].action.is_empty(), "the analysis wording stays");
    assert!(report.remediation[1..].iter().all(|s| s.model_text.is_none()));
}

#[test]
fn remediation_changed_address_rejected() {
    let remediation = json!([{"step": "R1", "text": "Block 203.0.113.9 now."}]);
    let report = run(json!([]), remediation, "Brute force.");
    assert_eq!(report.remediation[0].model_text, None);
    let llm = report.llm.unwrap();
    assert_eq!(llm.rejected[0].part, "remediation[R1]");
    assert!(llm.rejected[0].reason.contains("203.0.113.9"), "{}", llm.rejected[0].reason);
}

#[test]
fn remediation_cannot_add_step() {
    let analysis_steps = run(json!([]), json!([]), "Brute force.").remediation.len();
    let remediation = json!([{"step": "R999", "text": "Wipe the host."}]);
    let report = run(json!([]), remediation, "Brute force.");
    assert_eq!(report.remediation.len(), analysis_steps);
    let llm = report.llm.unwrap();
    assert!(llm.rejected[0].reason.contains("cannot add"), "{}", llm.rejected[0].reason);
}

#[test]
fn remediation_worded_twice_keeps_first() {
    let remediation = json!([
        {"step": "R1", "text": "First wording."},
        {"step": "R1", "text": "Second wording."}
    ]);
    let report = run(json!([]), remediation, "Brute force.");
    assert_eq!(report.remediation[0].model_text.as_deref(), Some("First wording."));
    assert_eq!(report.llm.unwrap().rejected.len(), 1);
}

#[test]
fn verdict_reason_marks_unverified_address() {
    let mut script = plan();
    let text = json!({
        "summary": "Brute force.", "verdict": "true_positive", "confidence": "high",
        "reasons": ["beaconing to 198.51.100.23"], "severity": "HIGH", "severity_reason": "x"
    });
    script.push(text.to_string());
    let (report, _) = investigate(ScriptedModel::new(script), Default::default(), SSH_ALERT);
    let verdict = report.verdict.unwrap();
    assert_eq!(verdict.source, "model");
    assert_eq!(verdict.reasons, ["beaconing to [unverified: 198.51.100.23]"]);
}

#[test]
fn summary_request_carries_schema() {
    let mut script = plan();
    script.push(closing(json!([]), json!([]), "Brute force."));
    let (_, requests) = investigate(ScriptedModel::new(script), Default::default(), SSH_ALERT);
    let last = requests.last().expect("summary request");
    let schema = last.answer_schema.as_ref().expect("summary schema");
    assert_eq!(schema.name, "write_summary");
    let facts = &last.messages[0].content;
    assert!(facts.contains("Timeline entry 0:"), "{facts}");
    assert!(facts.contains("Remediation R1:"), "{facts}");
}
