//! Google Gemini `generateContent`.
//!
//! `POST {base}/v1beta/models/{model}:generateContent` with the key in
//! `x-goog-api-key` (never in the URL, so it stays out of logs). The system
//! prompt is `systemInstruction`, turns are `contents` with roles `user` and
//! `model`, and JSON answers are requested with
//! `generationConfig.responseMimeType: "application/json"`. A request with
//! an [`AnswerSchema`] also sends `generationConfig.responseSchema`,
//! converted to Gemini's schema subset by [`gemini_schema`]; the answer is
//! then the JSON text of the candidate's text parts.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::config::EndpointSettings;
use super::http::{
    join_url, model_info, require, require_count, role_name, Locality, ParsedAnswer, Transport,
};
use super::{ChatModel, ChatRequest, ChatResponse, LlmError, LlmFailure, ModelInfo};

/// Schema keywords copied to Gemini as they are. Gemini's `Schema` is a
/// subset of the OpenAPI 3.0 schema object (Gemini API reference, `Schema`).
const KEPT_KEYWORDS: [&str; 16] = [
    "format",
    "title",
    "description",
    "nullable",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
    "pattern",
    "required",
    "propertyOrdering",
    "default",
];

/// A chat model behind the Gemini `generateContent` protocol.
pub struct GeminiChat {
    endpoint: EndpointSettings,
    transport: Transport,
}

impl GeminiChat {
    pub fn new(endpoint: EndpointSettings) -> Result<GeminiChat, LlmError> {
        let transport = Transport::for_endpoint("gemini", &endpoint, "GEMINI_API_KEY")?;
        Ok(GeminiChat {
            endpoint,
            transport,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let contents: Vec<Value> = request
            .messages
            .iter()
            .map(|message| {
                let role = role_name(message.role, "model");
                json!({"role": role, "parts": [{"text": message.content}]})
            })
            .collect();
        let mut config = json!({
            "maxOutputTokens": request.max_tokens,
            "temperature": request.temperature,
        });
        if request.json || request.answer_schema.is_some() {
            config["responseMimeType"] = json!("application/json");
        }
        if let Some(schema) = &request.answer_schema {
            config["responseSchema"] = gemini_schema(&schema.schema);
        }
        json!({
            "systemInstruction": {"parts": [{"text": request.system}]},
            "contents": contents,
            "generationConfig": config,
        })
    }

    fn parse(&self, answer: &Value) -> Result<ParsedAnswer, LlmError> {
        if let Some(reason) = answer
            .pointer("/promptFeedback/blockReason")
            .and_then(Value::as_str)
        {
            let message = format!("prompt blocked by the provider: {reason}");
            return Err(self.transport.error(LlmFailure::BadRequest, message));
        }
        let parts = require(&self.transport, answer, "/candidates/0/content/parts")?;
        // Thinking models add parts marked `thought: true`; they are not the answer.
        let texts: Vec<&str> = parts
            .as_array()
            .map(|parts| {
                parts
                    .iter()
                    .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        if texts.is_empty() {
            let message = "response has no `text` in `/candidates/0/content/parts`";
            return Err(self.transport.error(LlmFailure::Unavailable, message));
        }
        let input = require_count(&self.transport, answer, "/usageMetadata/promptTokenCount")?;
        let output = require_count(
            &self.transport,
            answer,
            "/usageMetadata/candidatesTokenCount",
        )?;
        Ok(ParsedAnswer {
            text: texts.concat(),
            input_tokens: input,
            output_tokens: output,
        })
    }
}

/// Converts a JSON Schema to Gemini's `responseSchema` subset.
///
/// - `type` becomes upper case (`OBJECT`, `STRING`, ...); a type list such as
///   `["string", "null"]` becomes the first non-null type with
///   `nullable: true`.
/// - `const` becomes a one-value `enum` and `oneOf` becomes `anyOf`.
/// - `properties`, `items` and `anyOf` are converted recursively; the
///   keywords in [`KEPT_KEYWORDS`] are copied.
/// - Every other keyword is dropped, among them `additionalProperties`,
///   `$schema`, `$ref`, `$defs`, `allOf`, `not`, `if`/`then`/`else`,
///   `examples` and `uniqueItems`. The model is then not held to those
///   constraints, so the planner's strict validation still checks them.
pub fn gemini_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    convert_type(object, &mut out);
    for keyword in KEPT_KEYWORDS {
        if let Some(value) = object.get(keyword) {
            out.insert(keyword.to_string(), value.clone());
        }
    }
    if let Some(value) = object.get("const") {
        out.insert("enum".into(), json!([value]));
    }
    if let Some(values) = object.get("enum") {
        out.insert("enum".into(), values.clone());
    }
    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        let converted: Map<String, Value> = properties
            .iter()
            .map(|(name, value)| (name.clone(), gemini_schema(value)))
            .collect();
        out.insert("properties".into(), Value::Object(converted));
    }
    if let Some(items) = object.get("items") {
        out.insert("items".into(), gemini_schema(items));
    }
    let alternatives = object.get("anyOf").or_else(|| object.get("oneOf"));
    if let Some(list) = alternatives.and_then(Value::as_array) {
        out.insert("anyOf".into(), list.iter().map(gemini_schema).collect());
    }
    Value::Object(out)
}

/// Writes the Gemini `type` (and `nullable` for a type list) of `object`.
fn convert_type(object: &Map<String, Value>, out: &mut Map<String, Value>) {
    match object.get("type") {
        Some(Value::String(name)) => {
            out.insert("type".into(), json!(name.to_ascii_uppercase()));
        }
        Some(Value::Array(names)) => {
            let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
            if let Some(name) = names.iter().find(|n| **n != "null") {
                out.insert("type".into(), json!(name.to_ascii_uppercase()));
            }
            if names.contains(&"null") {
                out.insert("nullable".into(), json!(true));
            }
        }
        _ => {}
    }
}

#[async_trait]
impl ChatModel for GeminiChat {
    fn info(&self) -> ModelInfo {
        model_info("gemini", &self.endpoint, Locality::Cloud)
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let path = format!("v1beta/models/{}:generateContent", self.endpoint.model);
        let url = join_url(&self.endpoint.base_url, &path);
        let mut headers = Vec::new();
        if let Some(key) = &self.endpoint.api_key {
            headers.push(("x-goog-api-key", key.clone()));
        }
        let body = self.body(request);
        self.transport
            .chat(&url, &headers, &body, "/modelVersion", |answer| {
                self.parse(answer)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_types_upper_case() {
        let converted = gemini_schema(&json!({"type": "object",
            "properties": {"n": {"type": "integer"}, "tags": {"type": "array",
                "items": {"type": "string"}}}}));
        assert_eq!(converted["type"], "OBJECT");
        assert_eq!(converted["properties"]["n"]["type"], "INTEGER");
        assert_eq!(converted["properties"]["tags"]["type"], "ARRAY");
        assert_eq!(converted["properties"]["tags"]["items"]["type"], "STRING");
    }

    #[test]
    fn schema_drops_additional_properties() {
        let converted = gemini_schema(&json!({"type": "object", "additionalProperties": false,
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "properties": {"a": {"type": "string"}}, "required": ["a"]}));
        assert_eq!(converted.get("additionalProperties"), None);
        assert_eq!(converted.get("$schema"), None);
        assert_eq!(converted["required"], json!(["a"]));
    }

    #[test]
    fn schema_const_becomes_enum() {
        let converted = gemini_schema(&json!({"type": "string", "const": "run_spl"}));
        assert_eq!(converted["enum"], json!(["run_spl"]));
        assert_eq!(converted.get("const"), None);
    }

    #[test]
    fn schema_one_of_becomes_any_of() {
        let converted = gemini_schema(&json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}));
        assert_eq!(
            converted["anyOf"],
            json!([{"type": "STRING"}, {"type": "INTEGER"}])
        );
        assert_eq!(converted.get("oneOf"), None);
    }

    #[test]
    fn schema_nullable_type_list() {
        let converted = gemini_schema(&json!({"type": ["string", "null"]}));
        assert_eq!(converted["type"], "STRING");
        assert_eq!(converted["nullable"], true);
    }
}
