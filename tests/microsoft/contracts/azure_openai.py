"""Check chat completion requests and stream chunks against the Azure OpenAI 2024-02-01
inference spec subset beside this file."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC = Path(__file__).with_name("azure_openai_2024-02-01.json")
TYPES = {"string": str, "number": (int, float), "integer": int, "boolean": bool, "object": dict, "array": list}


@lru_cache(maxsize=1)
def spec() -> dict:
    return json.loads(SPEC.read_text())


def _check(obj: Any, schema_name: str, path: str, nullable: tuple[str, ...] = ()) -> list[str]:
    schema = spec()[schema_name]
    if not isinstance(obj, dict):
        return [f"{path}: expected an object ({schema_name})"]
    problems = [f"{path}.{k}: missing (required by {schema_name})" for k in schema.get("required", []) if k not in obj]
    for key, value in obj.items():
        kind = schema["properties"].get(key)
        if kind is None:
            problems.append(f"{path}.{key}: not a property of {schema_name}")
        elif value is None:
            if key not in (*schema.get("nullable", ()), *nullable):
                problems.append(f"{path}.{key}: null is not allowed")
        elif kind != "any" and (
            not isinstance(value, TYPES[kind]) or (kind in ("integer", "number") and isinstance(value, bool))
        ):
            problems.append(f"{path}.{key}: {value!r} is not {kind}")
    return problems


def request_problems(body: dict) -> list[str]:
    problems = _check(body, "createChatCompletionRequest", "$")
    for name, (low, high) in spec()["createChatCompletionRequest"]["ranges"].items():
        if isinstance(body.get(name), (int, float)) and not low <= body[name] <= high:
            problems.append(f"$.{name}: outside {low}..{high}")
    roles = spec()["chatCompletionRequestMessage"]["roles"]
    for n, message in enumerate(body.get("messages") or []):
        problems += _check(message, "chatCompletionRequestMessage", f"$.messages[{n}]")
        if message.get("role") not in roles:
            problems.append(f"$.messages[{n}].role: {message.get('role')!r} is not a role")
    return problems


def chunk_problems(chunk: dict) -> list[str]:
    problems = _check(chunk, "chatCompletionsResponseCommon", "$")
    for n, choice in enumerate(chunk.get("choices") or []):
        problems += _check(choice, "chatCompletionChoice", f"$.choices[{n}]", nullable=("finish_reason",))
        for part in ("delta", "message"):
            if part in choice and choice[part] is not None:
                message = choice[part]
                problems += _check(message, "chatCompletionResponseMessage", f"$.choices[{n}].{part}")
                context = message.get("context")
                if isinstance(context, dict):
                    problems += _check(context, "azureChatExtensionsMessageContext", f"$.choices[{n}].{part}.context")
                    for c, citation in enumerate(context.get("citations") or []):
                        problems += _check(citation, "citation", f"$.choices[{n}].{part}.context.citations[{c}]")
    return problems
