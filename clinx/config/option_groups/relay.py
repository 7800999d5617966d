"""Channel retry/auto-disable, provider model settings, rate limits and content safety (newapi-contract §9
"Channels / relay", "Rate limit", "Content safety")."""

from __future__ import annotations

from clinx.config.option_groups import checks
from clinx.config.option_groups.declare import flag, grouped, number, structured, text, whole

DEFAULT_DISABLE_KEYWORDS = "\n".join(
    [
        "Your credit balance is too low",
        "This organization has been disabled.",
        "You exceeded your current quota",
        "Permission denied",
        "The security token included in the request is invalid",
        "Operation not allowed",
        "Your account is not authorized",
    ]
)
DEFAULT_RETRY_STATUS_CODES = "100-199,300-399,401-407,409-499,500-503,505-523,525-599"
DEFAULT_GEMINI_IMAGINE_MODELS = [
    "gemini-2.0-flash-exp-image-generation",
    "gemini-2.0-flash-exp",
    "gemini-3-pro-image-preview",
    "gemini-3-pro-image",
    "gemini-2.5-flash-image",
    "gemini-3.1-flash-image",
    "gemini-3.1-flash-image-preview",
]
_fraction = checks.between(0, 1)

CHANNELS = grouped(
    "Channels / relay",
    [
        whole(
            "RetryTimes",
            0,
            "Extra attempts on other channels after a failed request (0–10).",
            validate=checks.between(0, 10),
        ),
        flag("AutomaticDisableChannelEnabled", False, "Disable a channel (status 3) on qualifying upstream errors."),
        flag("AutomaticEnableChannelEnabled", False, "Re-enable an auto-disabled channel after a clean test."),
        number(
            "ChannelDisableThreshold", 5, "Channel tests slower than this many seconds disable the channel (0 = off)."
        ),
        text(
            "AutomaticDisableKeywords",
            DEFAULT_DISABLE_KEYWORDS,
            "Newline list; an upstream error message containing one (case-insensitive) disables the channel.",
        ),
        text(
            "AutomaticDisableStatusCodes",
            "401",
            'Upstream HTTP statuses that disable the channel: codes and ranges like "401,403,500-503".',
            validate=checks.status_ranges,
        ),
        text(
            "AutomaticRetryStatusCodes",
            DEFAULT_RETRY_STATUS_CODES,
            "Upstream HTTP statuses retried on another channel (504 and 524 never are).",
            validate=checks.status_ranges,
        ),
        flag("global.pass_through_request_enabled", False, "Forward request bodies to upstreams untouched."),
        structured(
            "global.thinking_model_blacklist",
            ["moonshotai/kimi-k2-thinking", "kimi-k2-thinking"],
            "Models whose real name ends in -thinking: their suffix is kept.",
            validate=checks.string_list,
        ),
        structured(
            "global.chat_completions_to_responses_policy",
            {"enabled": False, "all_channels": True},
            "When to send chat completions to upstreams as Responses API requests.",
            validate=checks.json_object,
        ),
        structured(
            "claude.model_headers_settings",
            {},
            'Extra request headers per Claude model: {"model": {"Header": ["value"]}}.',
            validate=checks.header_settings,
        ),
        structured(
            "claude.default_max_tokens",
            {"default": 8192},
            "max_tokens sent to Claude when the request has none, per model (key default for the rest).",
            validate=checks.int_map,
        ),
        flag("claude.thinking_adapter_enabled", True, "Turn the -thinking model suffix into Claude extended thinking."),
        number(
            "claude.thinking_adapter_budget_tokens_percentage",
            0.8,
            "Thinking budget as a share of max_tokens for -thinking (0–1).",
            validate=_fraction,
        ),
        structured(
            "gemini.safety_settings",
            {"default": "OFF", "HARM_CATEGORY_CIVIC_INTEGRITY": "BLOCK_NONE"},
            "Gemini safety threshold per harm category (key default for the rest).",
            validate=checks.string_map,
        ),
        structured(
            "gemini.version_settings",
            {"default": "v1beta", "gemini-1.0-pro": "v1"},
            "Gemini API version per model (key default for the rest).",
            validate=checks.string_map,
        ),
        structured(
            "gemini.supported_imagine_models",
            DEFAULT_GEMINI_IMAGINE_MODELS,
            "Gemini models that may return images.",
            validate=checks.string_list,
        ),
        flag("gemini.thinking_adapter_enabled", False, "Turn Gemini -thinking suffixes into thinking budgets."),
        number(
            "gemini.thinking_adapter_budget_tokens_percentage",
            0.6,
            "Gemini thinking budget as a share of max tokens (0–1).",
            validate=_fraction,
        ),
        text("WorkerUrl", "", "Cloudflare worker that fetches media URLs on Clinx's behalf; empty = fetch directly."),
        text("WorkerValidKey", "", "Key sent to the Cloudflare worker (write-only)."),
        flag("WorkerAllowHttpImageRequestEnabled", False, "Let the worker fetch plain-http image URLs."),
        flag("monitor_setting.auto_test_channel_enabled", False, "Test all channels on a schedule."),
        number("monitor_setting.auto_test_channel_minutes", 10, "Minutes between scheduled channel tests."),
    ],
)

RATE_LIMIT = grouped(
    "Rate limit",
    [
        flag("ModelRequestRateLimitEnabled", False, "Limit relay requests per user within a time window."),
        whole(
            "ModelRequestRateLimitDurationMinutes",
            1,
            "Length of the rate-limit window in minutes.",
            validate=checks.at_least(1),
        ),
        whole("ModelRequestRateLimitCount", 0, "Most requests per window, counting failures (0 = no limit)."),
        whole(
            "ModelRequestRateLimitSuccessCount",
            1000,
            "Most successful requests per window.",
            validate=checks.at_least(1),
        ),
        structured(
            "ModelRequestRateLimitGroup",
            {},
            'Per-group limits overriding the two counts: {"group": [requests, successes]}.',
            validate=checks.rate_limit_groups,
        ),
    ],
)

CONTENT_SAFETY = grouped(
    "Content safety",
    [
        flag("CheckSensitiveEnabled", True, "Check requests against SensitiveWords."),
        flag("CheckSensitiveOnPromptEnabled", True, "Check prompts (not only completions) for sensitive words."),
        flag("StopOnSensitiveEnabled", True, "Refuse a request that contains a sensitive word."),
        text("SensitiveWords", "test_sensitive", "Newline list of sensitive words."),
        whole("StreamCacheQueueLength", 0, "Stream chunks buffered for sensitive-word checks (0 = none)."),
    ],
)

SPECS = CHANNELS + RATE_LIMIT + CONTENT_SAFETY
