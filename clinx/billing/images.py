"""Per-image pricing for image generation: New API's size and quality multipliers, times ``n``."""

from __future__ import annotations

from typing import Any

SIZE_MULTIPLIERS = {"256": 0.4, "512": 0.45, "1024": 1.0, "1792": 2.0}


def image_call_multiplier(model: str, body: dict[str, Any] | None) -> float:
    """How many "calls" an image request is worth: ``n`` images × size multiplier (dall-e) × HD multiplier
    (dall-e-3: ×2, or ×1.5 for the 1792 sizes)."""
    body = body or {}
    n = body.get("n")
    count = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1
    if not model.startswith("dall-e"):
        return float(count)
    size = str(body.get("size") or "1024x1024")
    longest = max(size.split("x"), key=lambda side: int(side) if side.isdigit() else 0)
    multiplier = SIZE_MULTIPLIERS.get(longest, 1.0)
    if model.startswith("dall-e-3") and body.get("quality") == "hd":
        multiplier *= 1.5 if longest == "1792" else 2.0
    return count * multiplier
