"""Call a scripted test server with a provider's official Python client.

Usage: llm_official_client.py PROVIDER BASE_URL API_KEY CALLS
PROVIDER is openai, anthropic or gemini, and CALLS the number of calls to
make. Prints one JSON line per call: the text and token counts the client
parsed from the response or, when the client raises an API error, the
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


CALLS = {"openai": call_openai, "anthropic": call_anthropic, "gemini": call_gemini}

def report(call, base_url, key):
    try:
        text, input_tokens, output_tokens = call(base_url, key)
    except Exception as error:  # noqa: BLE001 - every client has its own error base class
        status = getattr(error, "status_code", None) or getattr(error, "code", None)
        message = getattr(error, "message", None) or str(error)
        return {"error": type(error).__name__, "status": status, "message": message}
    return {"text": text, "input": input_tokens, "output": output_tokens}


if __name__ == "__main__":
    provider, base_url, key, count = sys.argv[1:5]
    for _ in range(int(count)):
        print(json.dumps(report(CALLS[provider], base_url, key)))
