"""Numeric enums with New API's values: roles, statuses, log types, channel types."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    GUEST = 0
    COMMON = 1
    ADMIN = 10
    ROOT = 100


class UserStatus(IntEnum):
    ENABLED = 1
    DISABLED = 2


class TokenStatus(IntEnum):
    ENABLED = 1
    DISABLED = 2
    EXPIRED = 3
    EXHAUSTED = 4


class ChannelStatus(IntEnum):
    UNKNOWN = 0
    ENABLED = 1
    MANUALLY_DISABLED = 2
    AUTO_DISABLED = 3


class RedemptionStatus(IntEnum):
    ENABLED = 1
    DISABLED = 2
    USED = 3


class LogType(IntEnum):
    UNKNOWN = 0
    TOPUP = 1
    CONSUME = 2
    MANAGE = 3
    SYSTEM = 4
    ERROR = 5
    REFUND = 6
    LOGIN = 7


class ChannelType(IntEnum):
    UNKNOWN = 0
    OPENAI = 1
    MIDJOURNEY = 2
    AZURE = 3
    OLLAMA = 4
    MIDJOURNEY_PLUS = 5
    OPENAI_MAX = 6
    OHMYGPT = 7
    CUSTOM = 8
    AILS = 9
    AIPROXY = 10
    PALM = 11
    API2GPT = 12
    AIGC2D = 13
    ANTHROPIC = 14
    BAIDU = 15
    ZHIPU = 16
    ALI = 17
    XUNFEI = 18
    AI360 = 19
    OPENROUTER = 20
    AIPROXY_LIBRARY = 21
    FASTGPT = 22
    TENCENT = 23
    GEMINI = 24
    MOONSHOT = 25
    ZHIPU_V4 = 26
    PERPLEXITY = 27
    LINGYIWANWU = 31
    AWS = 33
    COHERE = 34
    MINIMAX = 35
    SUNO = 36
    DIFY = 37
    JINA = 38
    CLOUDFLARE = 39
    SILICONFLOW = 40
    VERTEX_AI = 41
    MISTRAL = 42
    DEEPSEEK = 43
    MOKAAI = 44
    VOLCENGINE = 45
    BAIDU_V2 = 46
    XINFERENCE = 47
    XAI = 48
    COZE = 49
    KLING = 50
    JIMENG = 51
    VIDU = 52
    SUBMODEL = 53
    DOUBAO_VIDEO = 54
    SORA = 55
    REPLICATE = 56
    CODEX = 57
    ADVANCED_CUSTOM = 58
    SUB2API = 59
    NEWAPI = 60
