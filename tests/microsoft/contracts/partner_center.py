"""Field names of Partner Center payloads, from the .NET SDK's models (see the JSON beside this)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

MODELS = Path(__file__).with_name("partner_center_sdk_models.json")
# Fields every resource may carry (ResourceBase.attributes, ResourceBaseWithLinks.links).
COMMON = {"attributes", "links"}
# Fields the emulator sends that Partner Center does not have: each is an assumption the
# portal must not rely on in production, listed here so that none is added silently.
EMULATOR_ASSUMPTIONS = {
    "Product": {
        "category": "the demo catalog's grouping (Partner Center has productType only); "
        "the portal shows an empty category for real products"
    },
}


@lru_cache(maxsize=1)
def _models() -> dict[str, dict]:
    return json.loads(MODELS.read_text())["models"]


def fields(model: str) -> set[str]:
    spec = _models()[model]
    names = set(spec["fields"])
    base = (spec.get("base") or "").split("<")[0]
    if base in _models():
        names |= fields(base)
    return names


def unknown_fields(payload: Any, model: str, nested: dict[str, str] | None = None, path: str = "$") -> list[str]:
    """Keys of ``payload`` that the SDK model does not have; ``nested`` maps a key to the
    model its object (or each object of its list) must match."""
    if not isinstance(payload, dict):
        return [f"{path}: expected an object"]
    allowed = fields(model) | COMMON | set(EMULATOR_ASSUMPTIONS.get(model, {}))
    problems = [f"{path}.{k}: not a field of {model}" for k in payload if k not in allowed]
    for key, sub in (nested or {}).items():
        value = payload.get(key)
        for n, item in enumerate(value if isinstance(value, list) else [value] if value else []):
            problems += unknown_fields(item, sub, None, f"{path}.{key}[{n}]")
    return problems
