"""OpenAI and every OpenAI-compatible provider: the request goes out as the client sent it (model mapped,
overrides applied) to ``base_url + /v1/...``, and the answer comes back untouched."""

from __future__ import annotations

from typing import Any

from clinx.core.enums import ChannelType as T
from clinx.core.types import ChannelInfo, Usage
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.endpoints import SPECS, Endpoint

DEFAULT_BASE_URLS: dict[int, str] = {
    T.OPENAI: "https://api.openai.com",
    T.OLLAMA: "http://localhost:11434",
    T.OPENAI_MAX: "https://api.openaimax.com",
    T.OHMYGPT: "https://api.ohmygpt.com",
    T.AILS: "https://api.caipacity.com",
    T.AIPROXY: "https://api.aiproxy.io",
    T.API2GPT: "https://api.api2gpt.com",
    T.AIGC2D: "https://api.aigc2d.com",
    T.AI360: "https://api.360.cn",
    T.OPENROUTER: "https://openrouter.ai/api",
    T.FASTGPT: "https://fastgpt.run/api/openapi",
    T.MOONSHOT: "https://api.moonshot.cn",
    T.LINGYIWANWU: "https://api.lingyiwanwu.com",
    T.SILICONFLOW: "https://api.siliconflow.cn",
    T.MISTRAL: "https://api.mistral.ai",
    T.DEEPSEEK: "https://api.deepseek.com",
    T.MOKAAI: "https://api.moka.ai",
    T.VOLCENGINE: "https://ark.cn-beijing.volces.com",
    T.BAIDU_V2: "https://qianfan.baidubce.com",
    T.XAI: "https://api.x.ai",
    T.PERPLEXITY: "https://api.perplexity.ai",
    T.SUBMODEL: "https://llm.submodel.ai",
    T.ALI: "https://dashscope.aliyuncs.com",
    T.ZHIPU_V4: "https://open.bigmodel.cn",
    T.XINFERENCE: "http://localhost:9997",
}
# Providers whose OpenAI-style path differs from /v1/...
_PATH_PREFIX: dict[int, str] = {
    T.VOLCENGINE: "/api/v3",  # Doubao / Ark
    T.BAIDU_V2: "/v2",  # Qianfan v2
    T.PERPLEXITY: "",
    T.ALI: "/compatible-mode/v1",  # DashScope's OpenAI-compatible mode
    T.ZHIPU_V4: "/api/paas/v4",  # GLM
}
ALL_ENDPOINTS = frozenset(Endpoint)
RESPONSES_FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


def usage_from_openai(payload: dict[str, Any]) -> Usage | None:
    raw = payload.get("usage")
    if not isinstance(raw, dict):
        return None
    prompt = int(raw.get("prompt_tokens") or raw.get("input_tokens") or 0)
    completion = int(raw.get("completion_tokens") or raw.get("output_tokens") or 0)
    total = int(raw.get("total_tokens") or 0)
    if not prompt and not completion:
        prompt = total  # rerank and embeddings answers (Jina) that report only a total: all of it is input
    elif not completion and total:
        completion = max(0, total - prompt)
    details = raw.get("prompt_tokens_details") or raw.get("input_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0
    # DeepSeek reports cache hits in its own field.
    cached = cached or int(raw.get("prompt_cache_hit_tokens") or 0)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached)


def usage_from_meta(payload: dict[str, Any]) -> Usage | None:
    """Cohere-shaped rerank usage (Cohere, SiliconFlow, Xinference): ``meta.tokens`` or ``meta.billed_units``
    token counts; None when only ``search_units`` are reported."""
    meta = payload.get("meta")
    if not isinstance(meta, dict):
        return None
    for name in ("tokens", "billed_units"):
        raw = meta.get(name)
        if isinstance(raw, dict):
            prompt, completion = int(raw.get("input_tokens") or 0), int(raw.get("output_tokens") or 0)
            if prompt or completion:
                return Usage(prompt_tokens=prompt, completion_tokens=completion)
    return None


def openai_stream_usage(event: Event, current: Usage | None) -> Usage | None:
    data = event.data
    if not isinstance(data, dict):
        return current
    if data.get("type") in RESPONSES_FINAL and isinstance(data.get("response"), dict):
        return usage_from_openai(data["response"]) or current
    return usage_from_openai(data) or current


def openai_stream_done(event: Event) -> bool:
    data = event.data
    return data == "[DONE]" or (isinstance(data, dict) and data.get("type") in RESPONSES_FINAL)


def prepare_openai(body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
    body["model"] = upstream_model
    if stream:
        body["stream"] = True
        if ask_usage and "messages" in body:
            options = dict(body.get("stream_options") or {})
            options["include_usage"] = True
            body["stream_options"] = options
    else:
        body.pop("stream", None)
        body.pop("stream_options", None)
    return body


class OpenAICompatible:
    name = "openai"
    endpoints = ALL_ENDPOINTS

    def default_base_url(self, channel_type: int) -> str:
        return DEFAULT_BASE_URLS.get(channel_type, "https://api.openai.com")

    def dialects(self, channel: ChannelInfo) -> tuple[Dialect, ...]:
        # OpenAI itself serves the Responses API; OpenAI-compatible providers generally serve only Chat.
        if channel.type == T.OPENAI:
            return (Dialect.OPENAI_CHAT, Dialect.OPENAI_RESPONSES)
        return (Dialect.OPENAI_CHAT,)

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str, stream: bool) -> str:
        path = SPECS[endpoint].path
        if channel.type == T.CUSTOM:
            return channel.base_url.replace("{model}", upstream_model)
        prefix = _PATH_PREFIX.get(channel.type)
        if prefix is not None:
            path = prefix + path.removeprefix("/v1")
        return (channel.base_url or self.default_base_url(channel.type)) + path

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {key}"}
        if channel.organization:
            headers["OpenAI-Organization"] = channel.organization
        return headers

    def prepare(self, body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
        return prepare_openai(body, upstream_model, stream=stream, ask_usage=ask_usage)

    def usage(self, payload: Json) -> Usage | None:
        return usage_from_openai(payload) or usage_from_meta(payload)

    def stream_usage(self, event: Event, current: Usage | None) -> Usage | None:
        return openai_stream_usage(event, current)

    def stream_done(self, event: Event) -> bool:
        return openai_stream_done(event)
