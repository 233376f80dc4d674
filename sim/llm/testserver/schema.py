"""Filling a requested JSON schema: the allowed values of a node, and schema-shaped answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DEFAULT_REPLY = "stub"  # the filler for strings, and option policies' answer when nothing is offered

Pick = Callable[[list[Any]], Any]


def resolve(node: Any, root: dict[str, Any]) -> Any:
    """Follow local ``$ref`` pointers (``#/$defs/...``)."""
    for _ in range(32):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#"):
            return node
        target: Any = root
        for part in ref.lstrip("#").strip("/").split("/"):
            if part:
                key = part.replace("~1", "/").replace("~0", "~")
                target = target.get(key, {}) if isinstance(target, dict) else {}
        node = target
    return node


def choices(node: Any, root: dict[str, Any]) -> list[Any] | None:
    """The allowed values of a schema node (``enum``, ``const``, through ``anyOf``/``oneOf``/``allOf``)."""
    node = resolve(node, root)
    if not isinstance(node, dict):
        return None
    if "enum" in node:
        return list(node["enum"])
    if "const" in node:
        return [node["const"]]
    for key in ("anyOf", "oneOf", "allOf"):
        found: list[Any] = []
        for sub in node.get(key, []):
            for v in choices(sub, root) or []:
                if v not in found:
                    found.append(v)
        if found:
            return found
    return None


def _type(node: Any, root: dict[str, Any]) -> Any:
    node = resolve(node, root)
    return node.get("type") if isinstance(node, dict) else None


def is_object(node: Any) -> bool:
    """Whether a (resolved) schema node describes a JSON object."""
    return isinstance(node, dict) and (node.get("type") == "object" or "properties" in node)


def default(node: Any, root: dict[str, Any], pick: Pick) -> Any:
    """A schema-shaped filler value: "stub" for strings, 0, False, [] or a filled object."""
    node = resolve(node, root)
    if not isinstance(node, dict):
        return DEFAULT_REPLY
    if "default" in node:
        return node["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        subs = [s for s in node.get(key, []) if _type(s, root) != "null"]
        if subs:
            return default(subs[0], root, pick)
    kind = node.get("type", "object" if "properties" in node else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return fill(node, root, pick)
    if kind == "array":
        return _array(node, root, pick)
    return {"integer": 0, "number": 0, "boolean": False, "array": [], "null": None}.get(kind, DEFAULT_REPLY)


def _array(node: dict[str, Any], root: dict[str, Any], pick: Pick) -> list[Any]:
    """``minItems`` items: distinct values chosen by ``pick`` when the items are an enum (a team of
    players, say), else schema-shaped fillers."""
    count = int(node.get("minItems", 0))
    items = node.get("items", {})
    allowed = choices(items, root)
    if not allowed:
        return [default(items, root, pick) for _ in range(count)]
    chosen: list[Any] = []
    for _ in range(min(count, len(allowed))):
        value = pick([v for v in allowed if v not in chosen])
        chosen.append(value)
    return chosen


def fill(
    node: dict[str, Any],
    root: dict[str, Any],
    pick: Pick,
    offered: Callable[[], list[str]] | None = None,
) -> dict[str, Any]:
    """Every enum property set by ``pick``, every other required property filled with a default.

    Without any enum property, the first required string property gets ``pick`` of the options
    ``offered`` (read from the prompt's text only then), so ``{"action": str, "reason": str}``
    schemas still get a real answer.
    """
    required = set(node.get("required", []))
    props: dict[str, Any] = node.get("properties") or {}
    values = {name: choices(prop, root) for name, prop in props.items()}
    if any(values.values()):
        offered = None
    out: dict[str, Any] = {}
    for name, prop in props.items():
        allowed = values[name]
        if allowed:
            out[name] = pick(allowed)
        elif name in required and offered is not None and _type(prop, root) == "string":
            options, offered = offered(), None
            out[name] = pick(options) if options else default(prop, root, pick)
        elif name in required:
            out[name] = default(prop, root, pick)
    return out
