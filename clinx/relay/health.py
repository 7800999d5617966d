"""Failure classes as data: which upstream statuses retry on another channel, which disable a channel."""

from __future__ import annotations

from functools import lru_cache

from clinx.core.errors import ClinxError, UpstreamError
from clinx.relay.errors import RelayUpstreamError

DEFAULT_RETRY_CODES = "100-199,300-399,401-407,409-499,500-503,505-523,525-599"
NEVER_RETRY = frozenset({400, 408, 504, 524})
DEFAULT_DISABLE_CODES = "401"
DEFAULT_DISABLE_KEYWORDS = (
    "Your credit balance is too low",
    "This organization has been disabled.",
    "You exceeded your current quota",
    "Permission denied",
    "The security token included in the request is invalid",
    "Operation not allowed",
    "Your account is not authorized",
)


@lru_cache(maxsize=64)
def parse_ranges(spec: str) -> tuple[tuple[int, int], ...]:
    """``"401,500-503"`` → ((401, 401), (500, 503)); malformed parts are skipped."""
    ranges: list[tuple[int, int]] = []
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            ranges.append((int(low), int(high or low)))
        except ValueError:
            continue
    return tuple(ranges)


def in_ranges(status: int, spec: str) -> bool:
    return any(low <= status <= high for low, high in parse_ranges(spec))


def should_retry(error: ClinxError, retry_codes: str) -> bool:
    """Retry on another channel? Local mistakes and timeouts at the gateway never; upstream failures by status."""
    if not isinstance(error, UpstreamError):
        return error.code.startswith("channel") or error.code == "model_mapping_contains_cycle"
    if error.status in NEVER_RETRY:
        return False
    if not isinstance(error, RelayUpstreamError):
        return True  # connection failures: another channel may well answer
    return in_ranges(error.status, retry_codes or DEFAULT_RETRY_CODES)


def should_disable(error: ClinxError, disable_codes: str, keywords: str) -> bool:
    if not isinstance(error, RelayUpstreamError):
        return False
    if in_ranges(error.status, disable_codes or DEFAULT_DISABLE_CODES):
        return True
    message = error.message.lower()
    words = [k.strip().lower() for k in keywords.splitlines() if k.strip()] if keywords else []
    return any(word in message for word in words or [k.lower() for k in DEFAULT_DISABLE_KEYWORDS])
