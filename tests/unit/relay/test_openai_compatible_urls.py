"""OpenAI-compatible providers with their own default hosts and path prefixes."""

from __future__ import annotations

import pytest

from clinx.core.enums import ChannelType as T
from clinx.core.types import ChannelInfo
from clinx.relay.adaptors.openai_compat import OpenAICompatible
from clinx.relay.endpoints import Endpoint


def _channel(kind: int, base_url: str = "") -> ChannelInfo:
    return ChannelInfo(id=1, type=kind, name="c", key="k", base_url=base_url, group="default", priority=0, weight=0)


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        (T.OPENAI, "https://api.openai.com/v1/chat/completions"),
        (T.DEEPSEEK, "https://api.deepseek.com/v1/chat/completions"),
        (T.ALI, "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"),
        (T.ZHIPU_V4, "https://open.bigmodel.cn/api/paas/v4/chat/completions"),
        (T.VOLCENGINE, "https://ark.cn-beijing.volces.com/api/v3/chat/completions"),
        (T.BAIDU_V2, "https://qianfan.baidubce.com/v2/chat/completions"),
        (T.OPENROUTER, "https://openrouter.ai/api/v1/chat/completions"),
        (T.MOONSHOT, "https://api.moonshot.cn/v1/chat/completions"),
    ],
)
def test_default_urls(kind: int, url: str) -> None:
    assert OpenAICompatible().url(_channel(kind), Endpoint.CHAT, "m", False) == url


def test_base_url_override_and_custom_full_url() -> None:
    adaptor = OpenAICompatible()
    assert (
        adaptor.url(_channel(T.ZHIPU_V4, "http://proxy"), Endpoint.CHAT, "m", False)
        == "http://proxy/api/paas/v4/chat/completions"
    )
    assert (
        adaptor.url(_channel(T.CUSTOM, "http://x/run/{model}"), Endpoint.CHAT, "glm-4", False) == "http://x/run/glm-4"
    )
