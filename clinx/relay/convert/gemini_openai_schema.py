"""Schemas between the dialects: JSON Schema (OpenAI tool parameters) → Gemini's OpenAPI-subset ``Schema``
(``FunctionDeclaration.parameters``), and back.

Gemini's ``Schema`` is a protobuf message: any key it does not know (``$schema``, ``additionalProperties``,
``$defs``, ``const``, ``oneOf``, ``examples``, ``strict``…) is refused with a 400, a ``type`` list is refused, and
string formats other than ``enum``/``date-time`` are refused. So the way there keeps only the fields of ``Schema``
(the list below), inlines local ``$ref``s, turns ``oneOf`` into ``anyOf``, ``const`` into a one-value ``enum``,
``["T", "null"]`` into ``T`` + ``nullable``, and drops enums that are not all strings.
"""

from __future__ import annotations

from typing import Any

from clinx.relay.convert.base import Json

GEMINI_SCHEMA_FIELDS = frozenset(
    {
        "anyOf",
        "default",
        "description",
        "enum",
        "example",
        "format",
        "items",
        "maxItems",
        "maxLength",
        "maxProperties",
        "maximum",
        "minItems",
        "minLength",
        "minProperties",
        "minimum",
        "nullable",
        "pattern",
        "properties",
        "propertyOrdering",
        "required",
        "title",
        "type",
    }
)
_FORMATS = {"STRING": {"enum", "date-time"}, "NUMBER": {"float", "double"}, "INTEGER": {"int32", "int64"}}
_TYPES = {"object", "array", "string", "number", "integer", "boolean"}
_MAX_DEPTH = 32
_MAX_NODES = 2000
_NESTED_OR_CHECKED = frozenset({"type", "nullable", "properties", "items", "anyOf", "format"})


def to_gemini_schema(schema: Any) -> Json:
    """A JSON Schema → Gemini ``Schema``; anything unusable becomes an empty (unconstrained) schema."""
    if not isinstance(schema, dict):
        return {}
    defs: Json = {}
    for key in ("$defs", "definitions"):
        found = schema.get(key)
        if isinstance(found, dict):
            defs.update(found)
    return _ToGemini(defs).convert(schema, 0, frozenset())


class _ToGemini:
    """Gemini's ``Schema`` has no references, so local ``$ref``s are inlined: a recursive one stops (as an
    unconstrained schema) where it would repeat itself, and a budget of schema nodes bounds what references to
    references can multiply into."""

    def __init__(self, defs: Json) -> None:
        self.defs = defs
        self.budget = _MAX_NODES

    def convert(self, raw: Json, depth: int, refs: frozenset[str]) -> Json:
        self.budget -= 1
        schema, refs = self._resolve(raw, refs)
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            first, refs = self._resolve(all_of[0], refs)
            schema = {**first, **{k: v for k, v in schema.items() if k != "allOf"}}
        out: Json = {}
        _set_type(out, schema.get("type"))
        if schema.get("nullable") is True:
            out["nullable"] = True
        for key, value in schema.items():
            if key in GEMINI_SCHEMA_FIELDS and key not in _NESTED_OR_CHECKED:
                out[key] = value
        if "const" in schema and isinstance(schema["const"], str):
            out["enum"] = [schema["const"]]
            out.setdefault("type", "STRING")
        _keep_valid_enum(out)
        _keep_valid_format(out, schema.get("format"))
        if depth + 1 < _MAX_DEPTH and self.budget > 0:
            self._nested(out, schema, depth + 1, refs)
        return out

    def _resolve(self, schema: Json, refs: frozenset[str]) -> tuple[Json, frozenset[str]]:
        ref = schema.get("$ref")
        if not isinstance(ref, str):
            return schema, refs
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        target = self.defs.get(ref.rsplit("/", 1)[-1]) if ref.startswith(("#/$defs/", "#/definitions/")) else None
        if ref in refs or not isinstance(target, dict) or self.budget <= 0:
            return rest, refs
        resolved, refs = self._resolve(target, refs | {ref})
        return {**resolved, **rest}, refs

    def _nested(self, out: Json, schema: Json, depth: int, refs: frozenset[str]) -> None:
        properties = schema.get("properties")
        if isinstance(properties, dict):
            out["properties"] = {
                name: self.convert(sub, depth, refs) for name, sub in properties.items() if isinstance(sub, dict)
            }
            required = out.get("required")
            if isinstance(required, list):
                out["required"] = [name for name in required if name in out["properties"]]
        items = schema.get("items")
        if isinstance(items, list):
            items = items[0] if items else None
        if isinstance(items, dict):
            out["items"] = self.convert(items, depth, refs)
        variants = schema.get("anyOf", schema.get("oneOf"))
        if isinstance(variants, list):
            out["anyOf"] = [self.convert(v, depth, refs) for v in variants if isinstance(v, dict)]


def _set_type(out: Json, raw: Any) -> None:
    names = raw if isinstance(raw, list) else [raw]
    chosen = [n.lower() for n in names if isinstance(n, str) and n.lower() in _TYPES]
    if any(isinstance(n, str) and n.lower() == "null" for n in names):
        out["nullable"] = True
    if chosen:
        out["type"] = chosen[0].upper()


def _keep_valid_enum(out: Json) -> None:
    enum = out.get("enum")
    if not isinstance(enum, list) or not all(isinstance(v, str) for v in enum):
        out.pop("enum", None)


def _keep_valid_format(out: Json, fmt: Any) -> None:
    if isinstance(fmt, str) and fmt in _FORMATS.get(out.get("type", ""), set()):
        out["format"] = fmt


def from_gemini_schema(schema: Any) -> Any:
    """A Gemini ``Schema`` (upper-case types, ``nullable``) → JSON Schema: types lower-cased, ``nullable`` folded
    into a type list, ``example`` into ``examples``; Gemini-only ``propertyOrdering`` and ``format: enum`` dropped."""
    if isinstance(schema, list):
        return [from_gemini_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: Json = {}
    for key, value in schema.items():
        if key in {"nullable", "propertyOrdering"} or (key == "format" and value == "enum"):
            continue
        if key == "type":
            if isinstance(value, str) and value.upper() not in {"TYPE_UNSPECIFIED", ""}:
                out["type"] = value.lower()
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {name: from_gemini_schema(sub) for name, sub in value.items()}
        elif key == "example":
            out["examples"] = [value]
        else:
            out[key] = from_gemini_schema(value) if key in {"items", "anyOf"} else value
    if schema.get("nullable") is True:
        _add_null(out)
    return out


def _add_null(out: Json) -> None:
    if isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    elif isinstance(out.get("anyOf"), list):
        out["anyOf"] = [*out["anyOf"], {"type": "null"}]
