//! Tolerant reading of model answers.
//!
//! Models do not always answer in the requested format, above all local
//! models behind OpenAI-compatible servers that print their tool calls as
//! text. [`extract`] finds the JSON in an answer in any of these forms:
//!
//! - a bare JSON object, alone, in a Markdown code fence, or with prose around it;
//! - a tool call object, `{"name": ..., "arguments": {...}}`, with the
//!   arguments as an object or as a JSON string (`parameters` in place of
//!   `arguments`, as Llama prints it, and OpenAI's `{"function": {...}}`
//!   wrapper are read too);
//! - tool calls printed in the chat-template markup of local models:
//!   `<tool_call>...</tool_call>` (Hermes, Qwen), `[TOOL_CALLS] [...]` and
//!   `[TOOL_CALLS]name[ARGS]{...}` (Mistral), `<|python_tag|>{...}` (Llama 3.1)
//!   and `functions.NAME({...})`.
//!
//! [`plan_answer`] then turns what was found into the planner's answer
//! object, accepting a single action object without the `actions` wrapper.
//! Reading is tolerant but checking is not: the planner still validates the
//! object it gets strictly.

use serde_json::{json, Map, Value};

/// A tool call found in an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub name: String,
    /// The arguments object; a string that is not a JSON object stays a string.
    pub arguments: Value,
}

/// The JSON found in a model answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Extracted {
    /// A JSON object that is not a tool call.
    Object(Value),
    /// One or more tool calls, in the order the model wrote them.
    Calls(Vec<ToolCall>),
}

/// Finds the JSON object or tool calls in a model answer; `None` when the
/// answer contains neither.
pub fn extract(text: &str) -> Option<Extracted> {
    let text = text.trim();
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        if let Some(found) = classify(value) {
            return Some(found);
        }
    }
    let markup = [
        tagged_calls(text),
        mistral_calls(text),
        python_tag_call(text),
        function_syntax_call(text),
    ];
    if let Some(found) = markup.into_iter().flatten().next() {
        return Some(found);
    }
    if let Some(found) = code_fence(text).and_then(first_json_object) {
        return classify(found);
    }
    first_json_object(text).and_then(classify)
}

/// Returns the JSON object in an answer: the object itself, or the
/// arguments of its only tool call.
pub fn extract_object(text: &str) -> Option<Value> {
    match extract(text)? {
        Extracted::Object(value) => Some(value),
        Extracted::Calls(mut calls) if calls.len() == 1 => {
            Some(calls.remove(0).arguments).filter(Value::is_object)
        }
        Extracted::Calls(_) => None,
    }
}

/// Builds the planner's answer object (`done`, `reason`, `actions`) from a
/// model answer. `tool` is the name of the planner's answer tool: a call of
/// it carries the answer object, while calls named after actions become the
/// action list. A single `{"action": ..., "args": ...}` object becomes a
/// one-action answer, and `args` sent as a JSON string are decoded. Unknown tool names become actions too, so that strict
/// validation rejects them by name.
pub fn plan_answer(text: &str, tool: &str) -> Option<Value> {
    let object = match extract(text)? {
        Extracted::Object(value) => value,
        Extracted::Calls(calls) if calls[0].name == tool => calls[0].arguments.clone(),
        Extracted::Calls(calls) => {
            let actions: Vec<Value> = calls
                .into_iter()
                .map(|call| json!({"action": call.name, "args": call.arguments}))
                .collect();
            json!({"done": false, "reason": "", "actions": actions})
        }
    };
    if !object.is_object() {
        return None;
    }
    let mut object = if object.get("action").is_some() && object.get("actions").is_none() {
        let reason = object.get("reason").cloned().unwrap_or_else(|| json!(""));
        json!({"done": false, "reason": reason, "actions": [object]})
    } else {
        object
    };
    decode_action_arguments(&mut object);
    Some(object)
}

/// Decodes `args` that a model sent as a JSON string, as some models do
/// for nested objects, so validation sees the object it encodes.
fn decode_action_arguments(answer: &mut Value) {
    let Some(actions) = answer.get_mut("actions").and_then(Value::as_array_mut) else {
        return;
    };
    for action in actions {
        if let Some(args) = action.get_mut("args") {
            *args = decode_arguments(args);
        }
    }
}

/// Sorts a parsed value into a tool call list or a plain object.
fn classify(value: Value) -> Option<Extracted> {
    match value {
        Value::Object(map) => Some(match tool_call(&map) {
            Some(call) => Extracted::Calls(vec![call]),
            None => Extracted::Object(Value::Object(map)),
        }),
        Value::Array(items) => {
            let calls: Option<Vec<ToolCall>> = items
                .iter()
                .map(|item| item.as_object().and_then(tool_call))
                .collect();
            match calls {
                Some(calls) if !calls.is_empty() => Some(Extracted::Calls(calls)),
                _ if items.len() == 1 && items[0].is_object() => {
                    Some(Extracted::Object(items[0].clone()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Reads a tool call object: `{"name", "arguments" | "parameters"}`, or the
/// same inside OpenAI's `{"type": "function", "function": {...}}`.
fn tool_call(map: &Map<String, Value>) -> Option<ToolCall> {
    if let Some(Value::Object(function)) = map.get("function") {
        return tool_call(function);
    }
    let name = map.get("name")?.as_str()?;
    let arguments = map.get("arguments").or_else(|| map.get("parameters"))?;
    let keys_known = map.keys().all(|k| {
        matches!(
            k.as_str(),
            "name" | "arguments" | "parameters" | "id" | "type"
        )
    });
    if !keys_known {
        return None;
    }
    Some(ToolCall {
        name: name.to_string(),
        arguments: decode_arguments(arguments),
    })
}

/// Arguments sent as a JSON string are decoded; others are kept as they are.
fn decode_arguments(arguments: &Value) -> Value {
    match arguments {
        Value::String(text) => serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| arguments.clone()),
        other => other.clone(),
    }
}

/// Reads every `<tool_call>...</tool_call>` block.
fn tagged_calls(text: &str) -> Option<Extracted> {
    let mut calls = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<tool_call>") {
        let body = &rest[start + "<tool_call>".len()..];
        let end = body.find("</tool_call>").unwrap_or(body.len());
        if let Some(Extracted::Calls(found)) = first_json_value(&body[..end]).and_then(classify) {
            calls.extend(found);
        }
        rest = &body[end..];
    }
    (!calls.is_empty()).then_some(Extracted::Calls(calls))
}

/// Reads Mistral's `[TOOL_CALLS] [{...}]` or `[TOOL_CALLS]name[ARGS]{...}`.
fn mistral_calls(text: &str) -> Option<Extracted> {
    let after = &text[text.find("[TOOL_CALLS]")? + "[TOOL_CALLS]".len()..];
    if let Some(args_at) = after.find("[ARGS]") {
        let name = after[..args_at].trim();
        let arguments = first_json_value(&after[args_at + "[ARGS]".len()..])?;
        return Some(Extracted::Calls(vec![ToolCall {
            name: name.to_string(),
            arguments,
        }]));
    }
    match classify(first_json_value(after)?)? {
        calls @ Extracted::Calls(_) => Some(calls),
        Extracted::Object(_) => None,
    }
}

/// Reads Llama's `<|python_tag|>{"name": ..., "parameters": {...}}`.
fn python_tag_call(text: &str) -> Option<Extracted> {
    let after = &text[text.find("<|python_tag|>")? + "<|python_tag|>".len()..];
    match classify(first_json_value(after)?)? {
        calls @ Extracted::Calls(_) => Some(calls),
        Extracted::Object(_) => None,
    }
}

/// Reads `functions.NAME({...})`, the call syntax some models copy from
/// OpenAI's tool descriptions.
fn function_syntax_call(text: &str) -> Option<Extracted> {
    let after = &text[text.find("functions.")? + "functions.".len()..];
    let name_end = after
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(after.len());
    let name = &after[..name_end];
    let rest = after[name_end..].trim_start();
    let rest = rest.strip_prefix('(').or_else(|| rest.strip_prefix(':'))?;
    let arguments = first_json_value(rest)?;
    (!name.is_empty() && arguments.is_object()).then(|| {
        Extracted::Calls(vec![ToolCall {
            name: name.to_string(),
            arguments,
        }])
    })
}

/// Returns the body of the first Markdown code fence, without its language tag.
fn code_fence(text: &str) -> Option<&str> {
    let start = text.find("```")? + 3;
    let body = &text[start..];
    let body = &body[body.find('\n').unwrap_or(0)..];
    let end = body.find("```").unwrap_or(body.len());
    Some(&body[..end])
}

/// Parses the JSON value that starts at the first `{` or `[` of `text`.
fn first_json_value(text: &str) -> Option<Value> {
    let start = text.find(['{', '['])?;
    read_value_at(text, start)
}

/// Finds the first `{` from which a whole JSON object parses, skipping
/// braces in prose that do not open one.
fn first_json_object(text: &str) -> Option<Value> {
    text.match_indices('{')
        .find_map(|(at, _)| read_value_at(text, at).filter(Value::is_object))
}

/// Reads one JSON value starting at byte `at`, ignoring what follows it.
fn read_value_at(text: &str, at: usize) -> Option<Value> {
    let mut values = serde_json::Deserializer::from_str(&text[at..]).into_iter::<Value>();
    values.next()?.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOL: &str = "choose_actions";

    fn call(name: &str, arguments: Value) -> Extracted {
        Extracted::Calls(vec![ToolCall {
            name: name.to_string(),
            arguments,
        }])
    }

    #[test]
    fn bare_object() {
        let found = extract(r#"{"done": true}"#);
        assert_eq!(found, Some(Extracted::Object(json!({"done": true}))));
    }

    #[test]
    fn object_in_code_fence() {
        let text = "Here is my plan:\n```json\n{\"done\": false, \"actions\": []}\n```\nThanks.";
        let found = extract(text);
        let expected = json!({"done": false, "actions": []});
        assert_eq!(found, Some(Extracted::Object(expected)));
    }

    #[test]
    fn object_in_prose_with_braces() {
        let text = "I use {host} as a placeholder. Answer: {\"done\": true, \"reason\": \"x\"} ok";
        let found = extract(text);
        let expected = json!({"done": true, "reason": "x"});
        assert_eq!(found, Some(Extracted::Object(expected)));
    }

    #[test]
    fn prose_without_json() {
        assert_eq!(extract("I think we are done"), None);
    }

    #[test]
    fn tool_call_with_object_arguments() {
        let found = extract(r#"{"name": "run_spl", "arguments": {"query": "search x"}}"#);
        assert_eq!(found, Some(call("run_spl", json!({"query": "search x"}))));
    }

    #[test]
    fn tool_call_with_string_arguments() {
        let found = extract(r#"{"name": "run_spl", "arguments": "{\"query\": \"search x\"}"}"#);
        assert_eq!(found, Some(call("run_spl", json!({"query": "search x"}))));
    }

    #[test]
    fn openai_function_wrapper() {
        let text = r#"{"id": "c1", "type": "function",
            "function": {"name": "correlate_ioc", "arguments": "{\"indicator\": \"1.2.3.4\"}"}}"#;
        let expected = call("correlate_ioc", json!({"indicator": "1.2.3.4"}));
        assert_eq!(extract(text), Some(expected));
    }

    #[test]
    fn hermes_tool_call_tags() {
        let text = "Let me check.\n<tool_call>\n{\"name\": \"correlate_ioc\", \"arguments\": \
                    {\"indicator\": \"1.2.3.4\"}}\n</tool_call>";
        let expected = call("correlate_ioc", json!({"indicator": "1.2.3.4"}));
        assert_eq!(extract(text), Some(expected));
    }

    #[test]
    fn hermes_two_tool_calls() {
        let text = "<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call>\n\
                    <tool_call>{\"name\": \"b\", \"arguments\": {\"x\": 1}}</tool_call>";
        let Some(Extracted::Calls(calls)) = extract(text) else {
            panic!("no calls found");
        };
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "a");
        assert_eq!(calls[1].arguments, json!({"x": 1}));
    }

    #[test]
    fn tool_call_tag_without_json() {
        assert_eq!(extract("<tool_call>run_spl</tool_call>"), None);
    }

    #[test]
    fn mistral_tool_calls_list() {
        let text = "[TOOL_CALLS] [{\"name\": \"check_cryptomining\", \"arguments\": \
                    {\"host\": \"web01\"}}]";
        let expected = call("check_cryptomining", json!({"host": "web01"}));
        assert_eq!(extract(text), Some(expected));
    }

    #[test]
    fn mistral_args_marker() {
        let text = "[TOOL_CALLS]check_cryptomining[ARGS]{\"host\": \"web01\"}";
        let expected = call("check_cryptomining", json!({"host": "web01"}));
        assert_eq!(extract(text), Some(expected));
    }

    #[test]
    fn llama_python_tag() {
        let text = "<|python_tag|>{\"name\": \"expand_to_network_logs\", \"parameters\": \
                    {\"ip\": \"10.0.0.5\"}}<|eom_id|>";
        let expected = call("expand_to_network_logs", json!({"ip": "10.0.0.5"}));
        assert_eq!(extract(text), Some(expected));
    }

    #[test]
    fn functions_call_syntax() {
        let text = "functions.correlate_ioc({\"indicator\": \"evil.example\"})";
        let expected = call("correlate_ioc", json!({"indicator": "evil.example"}));
        assert_eq!(extract(text), Some(expected));
    }

    #[test]
    fn functions_call_syntax_with_colon() {
        let text = "to=functions.choose_actions: {\"done\": true}";
        assert_eq!(
            extract(text),
            Some(call("choose_actions", json!({"done": true})))
        );
    }

    #[test]
    fn object_with_name_is_not_a_call() {
        let value = json!({"name": "x", "arguments": {}, "verdict": "benign"});
        assert_eq!(extract(&value.to_string()), Some(Extracted::Object(value)));
    }

    #[test]
    fn plan_from_answer_tool_call() {
        let text =
            r#"{"name": "choose_actions", "arguments": "{\"done\": true, \"reason\": \"r\"}"}"#;
        assert_eq!(
            plan_answer(text, TOOL),
            Some(json!({"done": true, "reason": "r"}))
        );
    }

    #[test]
    fn plan_from_action_tool_calls() {
        let text = "<tool_call>{\"name\": \"correlate_ioc\", \"arguments\": \
                    {\"indicator\": \"1.2.3.4\"}}</tool_call>";
        let expected = json!({"done": false, "reason": "", "actions": [
            {"action": "correlate_ioc", "args": {"indicator": "1.2.3.4"}}]});
        assert_eq!(plan_answer(text, TOOL), Some(expected));
    }

    #[test]
    fn plan_from_single_action() {
        let text = r#"{"action": "check_cryptomining", "args": {"host": "web01"}, "reason": "r"}"#;
        let expected = json!({"done": false, "reason": "r", "actions": [
            {"action": "check_cryptomining", "args": {"host": "web01"}, "reason": "r"}]});
        assert_eq!(plan_answer(text, TOOL), Some(expected));
    }

    #[test]
    fn plan_decodes_string_args() {
        let text = r#"{"done": false, "reason": "r", "actions": [
            {"action": "correlate_ioc", "args": "{\"indicator\": \"1.2.3.4\"}", "reason": "x"}]}"#;
        let plan = plan_answer(text, TOOL).unwrap();
        assert_eq!(plan["actions"][0]["args"], json!({"indicator": "1.2.3.4"}));
    }

    #[test]
    fn plan_keeps_wrapped_answer() {
        let value = json!({"done": false, "reason": "r", "actions": [{"action": "a"}]});
        assert_eq!(plan_answer(&value.to_string(), TOOL), Some(value));
    }

    #[test]
    fn plan_rejects_string_arguments() {
        let text = r#"{"name": "choose_actions", "arguments": "not json"}"#;
        assert_eq!(plan_answer(text, TOOL), None);
    }

    #[test]
    fn object_of_single_call() {
        let text =
            r#"<tool_call>{"name": "write_summary", "arguments": {"summary": "s"}}</tool_call>"#;
        assert_eq!(extract_object(text), Some(json!({"summary": "s"})));
    }
}
