"""Pure request shaping for a chosen channel: model mapping (chains followed, cycles refused), the channel's
system prompt and parameter overrides."""

from __future__ import annotations

from typing import Any

import orjson

from clinx.core.errors import ChannelError
from clinx.core.types import ChannelInfo
from clinx.relay.convert.base import Dialect


def map_model(model: str, mapping: tuple[tuple[str, str], ...]) -> str:
    """Follow the channel's model mapping to its end; a cycle is the channel's misconfiguration."""
    if not mapping:
        return model
    table = dict(mapping)
    seen = {model}
    current = model
    while current in table and table[current] and table[current] != current:
        current = table[current]
        if current in seen:
            raise ChannelError(
                f"模型映射存在循环 (model_mapping of this channel contains a cycle at {current!r})",
                code="model_mapping_contains_cycle",
                status=500,
            )
        seen.add(current)
    return current


def _system_prompt(body: dict[str, Any], channel: ChannelInfo, dialect: Dialect) -> None:
    """Insert the channel's system prompt (or prepend it to the client's with ``system_prompt_override``)."""
    prompt = channel.system_prompt
    if not prompt:
        return
    if dialect == Dialect.OPENAI_CHAT and isinstance(body.get("messages"), list):
        messages = body["messages"] = list(body["messages"])
        first = messages[0] if messages else None
        if not (isinstance(first, dict) and first.get("role") in {"system", "developer"}):
            messages.insert(0, {"role": "system", "content": prompt})
        elif channel.system_prompt_override and isinstance(first.get("content"), str):
            messages[0] = {**first, "content": f"{prompt}\n{first['content']}"}
    elif dialect == Dialect.CLAUDE:
        existing = body.get("system")
        if not existing:
            body["system"] = prompt
        elif channel.system_prompt_override and isinstance(existing, str):
            body["system"] = f"{prompt}\n{existing}"


def _param_override(body: dict[str, Any], channel: ChannelInfo) -> None:
    if not channel.param_override:
        return
    try:
        overrides = orjson.loads(channel.param_override)
    except orjson.JSONDecodeError as exc:
        raise ChannelError(
            "渠道参数覆盖不是有效的 JSON (the channel's param_override is not valid JSON)",
            code="channel_param_override_invalid",
            status=500,
        ) from exc
    if isinstance(overrides, dict):
        body.update(overrides)


def apply_channel(body: dict[str, Any], channel: ChannelInfo, dialect: Dialect) -> dict[str, Any]:
    """The channel's own settings on a body already in the channel's dialect: system prompt, param override."""
    _system_prompt(body, channel, dialect)
    _param_override(body, channel)
    return body


def client_wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))
