"""Pure request shaping for a chosen channel: model mapping (chains followed, cycles refused), the channel's
system prompt and parameter overrides, and asking for usage in streams."""

from __future__ import annotations

from typing import Any

import orjson

from clinx.core.errors import ChannelError
from clinx.core.types import ChannelInfo


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


def _system_prompt(body: dict[str, Any], channel: ChannelInfo) -> None:
    messages = body.get("messages")
    if not channel.system_prompt or not isinstance(messages, list):
        return
    first = messages[0] if messages else None
    has_system = isinstance(first, dict) and first.get("role") in {"system", "developer"}
    if not has_system:
        messages.insert(0, {"role": "system", "content": channel.system_prompt})
    elif channel.system_prompt_override and isinstance(first, dict):
        existing = first.get("content")
        if isinstance(existing, str):
            first["content"] = f"{channel.system_prompt}\n{existing}"


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


def shape_body(
    body: dict[str, Any],
    channel: ChannelInfo,
    upstream_model: str,
    *,
    stream: bool,
    ask_stream_usage: bool,
) -> dict[str, Any]:
    """A copy of the client's body ready for this channel (the original stays untouched for retries)."""
    shaped = dict(body)
    if "messages" in shaped and isinstance(shaped["messages"], list):
        shaped["messages"] = list(shaped["messages"])
    shaped["model"] = upstream_model
    if stream and ask_stream_usage:
        options = dict(shaped.get("stream_options") or {})
        options["include_usage"] = True
        shaped["stream_options"] = options
    _system_prompt(shaped, channel)
    _param_override(shaped, channel)
    return shaped


def client_wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))
