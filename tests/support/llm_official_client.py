"""Call a scripted test server with a provider's official Python client.

Usage: llm_official_client.py PROVIDER BASE_URL API_KEY CALLS [SCHEMA]
PROVIDER is openai, anthropic or gemini for plain text calls, or
openai-tools, anthropic-tools or gemini-schema for calls that send SCHEMA
(a JSON object: name, description, schema) as a forced tool or as
Gemini's response schema. CALLS is the number of calls to make. Prints
one JSON line per call: the text and token counts the client parsed from
the response (for a tool call, the tool name and its arguments object as
"tool" and "arguments") or, when the client raises an API error, the
error class, HTTP status and message it parsed from the error body.
"""
import json
import sys


def call_openai(base_url, key):
    from openai import OpenAI

    client = OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0)
    answer = client.chat.completions.create(
        model="test-model",
        messages=[
            {"role": "system", "content": "You triage alerts."},
            {"role": "user", "content": "first question"},
        ],
        max_completion_tokens=64,
    )
    usage = answer.usage
    return answer.choices[0].message.content, usage.prompt_tokens, usage.completion_tokens


def call_anthropic(base_url, key):
    from anthropic import Anthropic

    client = Anthropic(base_url=base_url, api_key=key, max_retries=0)
    answer = client.messages.create(
        model="test-model",
        system="You triage alerts.",
        messages=[{"role": "user", "content": "first question"}],
        max_tokens=64,
    )
    text = "".join(block.text for block in answer.content if block.type == "text")
    return text, answer.usage.input_tokens, answer.usage.output_tokens


def call_gemini(base_url, key):
    from google import genai
    from google.genai import types

    # The Rust client calls v1beta, so the same API version is asked for here.
    options = types.HttpOptions(base_url=base_url, api_version="v1beta")
    client = genai.Client(api_key=key, http_options=options)
    answer = client.models.generate_content(
        model="test-model",
        contents="first question",
        config=types.GenerateContentConfig(
            system_instruction="You triage alerts.", max_output_tokens=64
        ),
    )
    usage = answer.usage_metadata
    return answer.text, usage.prompt_token_count, usage.candidates_token_count


def call_openai_tools(base_url, key, schema):
    from openai import OpenAI

    client = OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0)
    tool = {
        "type": "function",
        "function": {
            "name": schema["name"],
            "description": schema["description"],
            "parameters": schema["schema"],
        },
    }
    answer = client.chat.completions.create(
        model="test-model",
        messages=[{"role": "user", "content": "first question"}],
        tools=[tool],
        tool_choice={"type": "function", "function": {"name": schema["name"]}},
    )
    call = answer.choices[0].message.tool_calls[0]
    usage = answer.usage
    arguments = json.loads(call.function.arguments)
    return {"tool": call.function.name, "arguments": arguments,
            "input": usage.prompt_tokens, "output": usage.completion_tokens}


def call_anthropic_tools(base_url, key, schema):
    from anthropic import Anthropic

    client = Anthropic(base_url=base_url, api_key=key, max_retries=0)
    answer = client.messages.create(
        model="test-model",
        messages=[{"role": "user", "content": "first question"}],
        max_tokens=64,
        tools=[{"name": schema["name"], "description": schema["description"],
                "input_schema": schema["schema"]}],
        tool_choice={"type": "tool", "name": schema["name"]},
    )
    block = next(block for block in answer.content if block.type == "tool_use")
    return {"tool": block.name, "arguments": block.input,
            "input": answer.usage.input_tokens, "output": answer.usage.output_tokens}


def call_gemini_schema(base_url, key, schema):
    from google import genai
    from google.genai import types

    options = types.HttpOptions(base_url=base_url, api_version="v1beta")
    client = genai.Client(api_key=key, http_options=options)
    answer = client.models.generate_content(
        model="test-model",
        contents="first question",
        config=types.GenerateContentConfig(
            response_mime_type="application/json", response_schema=schema["schema"]
        ),
    )
    usage = answer.usage_metadata
    return {"text": answer.text, "input": usage.prompt_token_count,
            "output": usage.candidates_token_count}


def plain(call):
    def run(base_url, key, _schema):
        text, input_tokens, output_tokens = call(base_url, key)
        return {"text": text, "input": input_tokens, "output": output_tokens}

    return run


CALLS = {
    "openai": plain(call_openai),
    "anthropic": plain(call_anthropic),
    "gemini": plain(call_gemini),
    "openai-tools": call_openai_tools,
    "anthropic-tools": call_anthropic_tools,
    "gemini-schema": call_gemini_schema,
}


def report(call, base_url, key, schema):
    try:
        return call(base_url, key, schema)
    except Exception as error:  # noqa: BLE001 - every client has its own error base class
        status = getattr(error, "status_code", None) or getattr(error, "code", None)
        message = getattr(error, "message", None) or str(error)
        return {"error": type(error).__name__, "status": status, "message": message}


if __name__ == "__main__":
    provider, base_url, key, count = sys.argv[1:5]
    schema = json.loads(sys.argv[5]) if len(sys.argv) > 5 else None
    for _ in range(int(count)):
        print(json.dumps(report(CALLS[provider], base_url, key, schema)))
