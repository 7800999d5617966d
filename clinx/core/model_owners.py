"""Who publishes a model, guessed from its name (``owned_by`` in OpenAI-style model lists). Pure data and one
lookup; unknown names belong to "custom", as in New API."""

from __future__ import annotations

CREATED = 1626777600  # the fixed ``created`` New API reports for every model

_OWNERS = (
    ("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"), ("chatgpt", "openai"),
    ("dall-e", "openai"), ("text-", "openai"), ("whisper", "openai"), ("tts-", "openai"), ("davinci", "openai"),
    ("babbage", "openai"), ("omni-", "openai"), ("claude", "anthropic"), ("gemini", "google"), ("gemma", "google"),
    ("imagen", "google"), ("palm", "google"), ("chat-bison", "google"), ("embedding-gecko", "google"),
    ("ernie", "baidu"), ("glm", "zhipu"), ("chatglm", "zhipu"), ("cogview", "zhipu"), ("qwen", "ali"),
    ("deepseek", "deepseek"), ("moonshot", "moonshot"), ("kimi", "moonshot"), ("yi-", "lingyiwanwu"),
    ("hunyuan", "tencent"), ("spark", "xunfei"), ("abab", "minimax"), ("minimax", "minimax"),
    ("mistral", "mistral"), ("mixtral", "mistral"), ("codestral", "mistral"), ("command", "cohere"),
    ("grok", "xai"), ("llama", "meta"), ("doubao", "volcengine"), ("jina", "jina"), ("suno", "suno"),
    ("mj_", "midjourney"), ("swap_face", "midjourney"), ("@cf/", "cloudflare"), ("360", "360"),
)  # fmt: skip


def owner_of(model: str) -> str:
    """The publisher of ``model`` by name prefix (case-insensitive), or "custom"."""
    lower = model.lower()
    return next((who for prefix, who in _OWNERS if lower.startswith(prefix)), "custom")
