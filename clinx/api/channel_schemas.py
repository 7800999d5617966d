"""Channel request and answer shaping: the fields a client may write, their validation, and the wire form of a
channel (its key never included)."""

from __future__ import annotations

import json
from typing import Any, TypeGuard

from clinx.core.enums import ChannelStatus
from clinx.core.errors import ValidationError
from clinx.core.model_owners import CREATED, owner_of
from clinx.store.rows import Row

CHANNEL_FIELDS = (
    "id", "type", "key", "openai_organization", "test_model", "status", "name", "weight", "created_time",
    "test_time", "response_time", "base_url", "other", "balance", "balance_updated_time", "models", "group",
    "used_quota", "model_mapping", "status_code_mapping", "priority", "auto_ban", "other_info", "tag", "setting",
    "param_override", "header_override", "remark", "channel_info", "settings",
)  # fmt: skip
_NUMBERS = {"id", "type", "status", "weight", "created_time", "test_time", "response_time", "balance",
            "balance_updated_time", "used_quota", "priority", "auto_ban"}  # fmt: skip
_NOT_NULL_TEXT = {"key", "name", "other", "models", "group", "other_info", "settings", "base_url"}

# Client-writable columns, by kind. Read-back columns (usage, balance, test results, channel_info) are not.
_INTS = {"type": 2**31, "status": 2**31, "auto_ban": 2**31, "priority": 2**62, "weight": 2**62}
# Text columns and their length limits (0 = a text column without one).
_TEXTS = {"key": 0, "name": 191, "base_url": 512, "other": 0, "openai_organization": 191, "test_model": 191,
          "tag": 191, "remark": 255}  # fmt: skip
_JSON_OBJECTS = ("model_mapping", "status_code_mapping", "param_override", "header_override", "setting", "settings")
_STATUSES = {int(s) for s in ChannelStatus if s != ChannelStatus.UNKNOWN}
MAX_ID = 2**31 - 1  # channels.id is a 32-bit integer column
MAX_MODEL_NAME = 255
MAX_GROUP = 64
MULTI_KEY_MODES = ("random", "polling")


def channel_info_out(raw: Any) -> dict[str, Any]:
    """``channel_info`` is stored as JSON text and served as an object, as New API's struct."""
    info: dict[str, Any] = {
        "is_multi_key": False,
        "multi_key_size": 0,
        "multi_key_status_list": None,
        "multi_key_polling_index": 0,
        "multi_key_mode": "",
    }
    try:
        stored = json.loads(raw) if raw else {}
    except ValueError:
        stored = {}
    if isinstance(stored, dict):
        info.update(stored)
    return info


def channel_out(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in CHANNEL_FIELDS:
        value = row.get(name)
        if value is None and name in _NUMBERS:
            value = 0
        elif value is None and name in _NOT_NULL_TEXT:
            value = ""
        out[name] = value
    out["key"] = ""  # only root reads a key, through POST /api/channel/{id}/key
    out["channel_info"] = channel_info_out(row.get("channel_info"))
    return out


def new_channel_info(multi_key_size: int = 0, mode: str = "") -> str:
    info = channel_info_out(None)
    if multi_key_size:
        info.update(is_multi_key=True, multi_key_size=multi_key_size, multi_key_mode=mode or "random")
    return json.dumps(info, separators=(",", ":"))


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(f"{name} 必须是整数 ({name} must be an integer)")
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit():
            raise ValidationError(f"{name} 必须是整数 ({name} must be an integer)")
        value = int(text)
    number = int(value)
    if not -_INTS[name] <= number < _INTS[name]:
        raise ValidationError(f"{name} 超出范围 ({name} is out of range)")
    return number


def text_field(name: str, value: Any) -> str:
    if isinstance(value, dict | list | bool):
        raise ValidationError(f"{name} 必须是字符串 ({name} must be a string)")
    text = str(value).strip()
    limit = _TEXTS.get(name, 0)
    if limit and len(text) > limit:
        raise ValidationError(f"{name} 过长，最多 {limit} 个字符 ({name} is longer than {limit} characters)")
    return text


def comma_list(name: str, value: Any) -> str:
    """``models`` and ``group``: trimmed, de-duplicated comma list (a JSON array is accepted too)."""
    parts = value if isinstance(value, list) else str(value or "").split(",")
    seen: dict[str, None] = {}
    for part in parts:
        item = str(part).strip()
        if item:
            seen.setdefault(item, None)
    if name == "models":
        for model in seen:
            if len(model) > MAX_MODEL_NAME:
                raise ValidationError(f"模型名称过长: {model} (a model name is longer than {MAX_MODEL_NAME})")
    joined = ",".join(seen)
    if name == "group" and len(joined) > MAX_GROUP:
        raise ValidationError(f"group 过长，最多 {MAX_GROUP} 个字符 (group list longer than {MAX_GROUP})")
    return joined


def find_mapping_cycle(mapping: dict[str, str]) -> list[str] | None:
    """A model-mapping chain that returns to an earlier name (``a→b→a``); ``a→a`` ends a chain, as New API."""
    for start in mapping:
        chain = [start]
        current = start
        while mapping.get(current):
            target = mapping[current]
            if target == current:
                break
            if target in chain:
                return [*chain, target]
            chain.append(target)
            current = target
    return None


def json_object(name: str, value: Any) -> str | None:
    """A JSON-valued column: empty, or the text of a JSON object (an object is accepted and serialised)."""
    if value is None:
        return None
    if isinstance(value, dict):
        parsed: Any = value
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value).strip()
        if not text:
            return ""
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    if not isinstance(parsed, dict):
        raise ValidationError(f"{name} 必须是合法的 JSON 对象 ({name} must be empty or a JSON object string)")
    if name == "model_mapping":
        if not all(isinstance(v, str) for v in parsed.values()):
            raise ValidationError("model_mapping 的值必须是字符串 (model_mapping values must be model names)")
        cycle = find_mapping_cycle(parsed)
        if cycle:
            raise ValidationError(f"model_mapping 存在循环映射 (model_mapping_contains_cycle: {' -> '.join(cycle)})")
    return text


def _coerce(body: dict[str, Any]) -> Row:
    values: Row = {}
    for name in _INTS:
        if name in body and body[name] is not None:
            values[name] = _int(name, body[name])
    for name in _TEXTS:
        if name in body:
            keep_null = body[name] is None and name not in _NOT_NULL_TEXT
            values[name] = None if keep_null else text_field(name, body[name] or "")
    for name in ("models", "group"):
        if name in body:
            values[name] = comma_list(name, body[name])
    for name in _JSON_OBJECTS:
        if name in body:
            values[name] = json_object(name, body[name])
    return values


def writable_fields(body: dict[str, Any]) -> Row:
    """The client-writable columns present in ``body``, coerced and validated."""
    values = _coerce(body)
    if "group" in values and not values["group"]:
        values["group"] = "default"
    if values.get("tag") == "":
        values["tag"] = None
    if "status" in values and values["status"] not in _STATUSES:
        raise ValidationError("status 只能是 1、2 或 3 (status must be 1 enabled, 2 disabled or 3 auto-disabled)")
    if "weight" in values and values["weight"] < 0:
        raise ValidationError("weight 不能为负数 (weight must be 0 or more)")
    return values


def key_lines(key: str) -> list[str]:
    return [line.strip() for line in key.split("\n") if line.strip()]


def _required(channel: dict[str, Any]) -> Row:
    if isinstance(channel.get("type"), bool) or not isinstance(channel.get("type"), int):
        raise ValidationError("渠道类型不能为空 (type is required and must be an integer)")
    values = writable_fields(channel)
    if not values.get("key"):
        raise ValidationError("密钥不能为空 (key is required)")
    if not values.get("models"):
        raise ValidationError("模型不能为空 (models is required: a comma-separated list)")
    return values


def _new_row(values: Row, now: int) -> Row:
    row: Row = {
        "status": int(ChannelStatus.ENABLED), "auto_ban": 1, "group": "default", "priority": 0, "weight": 0,
        "name": "", "base_url": "", "other": "", "other_info": "", "settings": "", "status_code_mapping": "",
        "used_quota": 0, "balance": 0.0, "balance_updated_time": 0, "test_time": 0, "response_time": 0,
        "channel_info": new_channel_info(),
    }  # fmt: skip
    row.update(values)
    row["created_time"] = now
    return row


def creation_rows(body: dict[str, Any], now: int) -> list[Row]:
    """The channel rows one POST /api/channel/ creates, from a v0.6 body (the channel itself, one channel per
    key line) or a latest body ``{"mode", "channel", ...}``."""
    latest = "mode" in body or "channel" in body
    channel = body.get("channel") if latest else body
    if not isinstance(channel, dict) or not channel:
        raise ValidationError("channel cannot be empty")
    mode = str(body.get("mode") or "single") if latest else "batch"
    if mode not in ("single", "batch", "multi_to_single"):
        raise ValidationError("不支持的添加模式 (mode must be single, batch or multi_to_single)")
    base = _new_row(_required(channel), now)
    keys = key_lines(str(base["key"]))
    if not keys:
        raise ValidationError("密钥不能为空 (key is required)")
    if mode == "single":
        return [base]
    if mode == "multi_to_single":
        multi_mode = str(body.get("multi_key_mode") or channel.get("multi_key_mode") or "random")
        if multi_mode not in MULTI_KEY_MODES:
            raise ValidationError("multi_key_mode 只能是 random 或 polling (multi_key_mode must be random or polling)")
        return [{**base, "key": "\n".join(keys), "channel_info": new_channel_info(len(keys), multi_mode)}]
    prefix = bool(body.get("batch_add_set_key_prefix_2_name") or channel.get("batch_add_set_key_prefix_2_name"))
    rows = []
    for key in keys:
        name = f"{base['name']} {key[:8]}" if prefix and len(keys) > 1 else base["name"]
        rows.append({**base, "key": key, "name": name})
    return rows


def update_values(body: dict[str, Any], existing: Row) -> Row:
    """Columns a PUT writes: only fields present; an empty key keeps the stored one; a multi-key channel takes
    ``key_mode`` ``append`` (add lines) or ``replace``."""
    if "type" in body and (isinstance(body["type"], bool) or not isinstance(body["type"], int)):
        raise ValidationError("渠道类型必须是整数 (type must be an integer)")
    values = writable_fields(body)
    if "models" in values and not values["models"]:
        raise ValidationError("模型不能为空 (models is required: a comma-separated list)")
    key = str(values.pop("key", "") or "")
    if not key:
        return values
    info = channel_info_out(existing.get("channel_info"))
    if not info["is_multi_key"]:
        values["key"] = key
        return values
    lines = key_lines(key)
    if str(body.get("key_mode") or "") == "append":
        lines = list(dict.fromkeys([*key_lines(str(existing.get("key") or "")), *lines]))
    else:
        info["multi_key_status_list"] = None
    info["multi_key_size"] = len(lines)
    values["key"] = "\n".join(lines)
    values["channel_info"] = json.dumps(info, separators=(",", ":"))
    return values


def is_channel_id(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def id_list(body: dict[str, Any]) -> list[int]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(is_channel_id(i) for i in ids):
        raise ValidationError("参数错误 (ids must be a non-empty list of channel ids)")
    return list(dict.fromkeys(ids))


def tag_of(body: dict[str, Any]) -> str:
    tag = body.get("tag")
    if not isinstance(tag, str) or not tag.strip():
        raise ValidationError("tag不能为空 (tag is required)")
    return tag.strip()


def optional_tag(value: Any) -> str | None:
    """A tag to set: a string, or null / empty to clear it."""
    if value is not None and not isinstance(value, str):
        raise ValidationError("tag 必须是字符串或 null (tag must be a string or null)")
    return text_field("tag", value) or None if value else None


def tag_edit_values(body: dict[str, Any]) -> Row:
    """PUT /api/channel/tag: fields given (and, for text fields, non-empty) apply to every channel of the tag."""
    tag = tag_of(body)
    values: Row = {}
    new_tag = body.get("new_tag")
    if new_tag is not None and str(new_tag).strip() != tag:
        values["tag"] = optional_tag(new_tag)
    for name in ("priority", "weight"):
        if body.get(name) is not None:
            values[name] = _int(name, body[name])
    if values.get("weight", 0) < 0:
        raise ValidationError("weight 不能为负数 (weight must be 0 or more)")
    if body.get("models"):
        values["models"] = comma_list("models", body["models"])
    if body.get("groups"):
        values["group"] = comma_list("group", body["groups"]) or "default"
    if body.get("model_mapping"):
        values["model_mapping"] = json_object("model_mapping", body["model_mapping"])
    for name in ("param_override", "header_override"):
        if body.get(name) is not None:
            values[name] = json_object(name, body[name])
    return values


def model_item(name: str) -> dict[str, Any]:
    """One entry of GET /api/channel/models, in New API's OpenAI-style list form."""
    return {"id": name, "object": "model", "created": CREATED, "owned_by": owner_of(name)}
