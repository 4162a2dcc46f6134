"""Validate JSON against the types of Graph's CSDL subset kept beside this file.

Strict on purpose: a property the metadata does not declare, a value of the wrong Edm type,
a null where the metadata says ``Nullable="false"`` or an enum member that does not exist is
reported. (Graph's directory types are OpenType, but Graph itself only returns declared
properties; an undeclared one in the emulator would be an invention.)
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
SUBSET = Path(__file__).with_name("graph-v1.0-subset.csdl")


@lru_cache(maxsize=1)
def _schema() -> tuple[dict[str, ET.Element], dict[str, list[ET.Element]]]:
    """Types by full name ("microsoft.graph.user") and bound actions and functions by name."""
    types: dict[str, ET.Element] = {}
    actions: dict[str, list[ET.Element]] = {}
    root = ET.parse(SUBSET).getroot()
    for schema in root.iter(EDM + "Schema"):
        ns = schema.get("Namespace")
        for el in schema:
            tag = el.tag.removeprefix(EDM)
            if tag in ("EntityType", "ComplexType", "EnumType"):
                types[f"{ns}.{el.get('Name')}"] = el
            elif tag in ("Action", "Function"):
                actions.setdefault(f"{ns}.{el.get('Name')}", []).append(el)
    return types, actions


def bound_signatures(name: str) -> list[tuple[str, str]]:
    """(binding parameter type, return type) of each overload of a bound action or function."""
    _, operations = _schema()
    return [
        (op.find(EDM + "Parameter").get("Type"), op.find(EDM + "ReturnType").get("Type"))
        for op in operations.get(name, [])
        if op.find(EDM + "ReturnType") is not None
    ]


def _full(name: str) -> str:
    return "microsoft.graph." + name[len("graph.") :] if name.startswith("graph.") else name


def properties(type_name: str) -> dict[str, ET.Element]:
    """Declared properties and navigation properties of a type, its base types included."""
    types, _ = _schema()
    el = types[_full(type_name)]
    props: dict[str, ET.Element] = {}
    if el.get("BaseType"):
        props.update(properties(el.get("BaseType")))
    for child in el:
        if child.tag in (EDM + "Property", EDM + "NavigationProperty"):
            props[child.get("Name")] = child
    return props


def _check_primitive(edm: str, value: Any) -> bool:
    if edm in ("Edm.String",):
        return isinstance(value, str)
    if edm == "Edm.Guid":
        try:
            uuid.UUID(str(value))
            return isinstance(value, str)
        except ValueError:
            return False
    if edm in ("Edm.Int32", "Edm.Int64"):
        return isinstance(value, int) and not isinstance(value, bool)
    if edm == "Edm.Boolean":
        return isinstance(value, bool)
    if edm in ("Edm.Double", "Edm.Decimal"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if edm == "Edm.DateTimeOffset":
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return isinstance(value, str) and bool(re.match(r"\d{4}-\d\d-\d\dT", value))
        except ValueError:
            return False
    if edm == "Edm.Date":
        return isinstance(value, str) and bool(re.fullmatch(r"\d{4}-\d\d-\d\d", value))
    return True  # other Edm types are not used by the portal


def validate(value: Any, type_name: str, path: str = "$") -> list[str]:
    """Problems found validating ``value`` (a JSON object) as ``type_name``; [] when valid."""
    types, _ = _schema()
    type_name = _full(type_name)
    el = types.get(type_name)
    if el is None:
        return [f"{path}: unknown type {type_name}"]
    if el.tag == EDM + "EnumType":
        members = {m.get("Name") for m in el}
        return [] if value in members else [f"{path}: {value!r} is not a member of {type_name}"]
    if not isinstance(value, dict):
        return [f"{path}: expected an object of {type_name}, got {type(value).__name__}"]
    props = properties(type_name)
    problems: list[str] = []
    for key, item in value.items():
        if key.startswith("@odata.") or "@odata." in key:
            continue  # control information, not properties
        prop = props.get(key)
        if prop is None:
            problems.append(f"{path}.{key}: not a property of {type_name}")
            continue
        problems += _validate_value(item, prop.get("Type"), prop.get("Nullable") != "false", f"{path}.{key}")
    return problems


def _validate_value(item: Any, type_ref: str, nullable: bool, path: str) -> list[str]:
    if item is None:
        return [] if nullable else [f"{path}: null but Nullable=false"]
    m = re.fullmatch(r"Collection\((.+)\)", type_ref)
    if m:
        if not isinstance(item, list):
            return [f"{path}: expected a collection of {m.group(1)}"]
        out: list[str] = []
        for n, x in enumerate(item):
            out += _validate_value(x, m.group(1), False, f"{path}[{n}]")
        return out
    if type_ref.startswith("Edm."):
        return [] if _check_primitive(type_ref, item) else [f"{path}: {item!r} is not {type_ref}"]
    return validate(item, type_ref, path)


def validate_action_body(action: str, binding_type: str, body: Any) -> list[str]:
    """Problems in a POST body for a bound action (parameters other than the binding one)."""
    _, actions = _schema()
    for el in actions.get(_full(action), []):
        params = [p for p in el if p.tag == EDM + "Parameter"]
        if params and _full(params[0].get("Type")) == _full(binding_type):
            declared = {p.get("Name"): p for p in params[1:]}
            if not isinstance(body, dict):
                return ["$: the body must be an object"]
            problems = [f"$.{k}: not a parameter of {action}" for k in body if k not in declared]
            for name, p in declared.items():
                optional = any(a.get("Term") == "Org.OData.Core.V1.OptionalParameter" for a in p)
                if name not in body:
                    if p.get("Nullable") == "false" and not optional:
                        problems.append(f"$.{name}: required parameter missing")
                    continue
                problems += _validate_value(body[name], p.get("Type"), p.get("Nullable") != "false", f"$.{name}")
            return problems
    return [f"no action {action} bound to {binding_type}"]
