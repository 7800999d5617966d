"""Bridges between gemini and OpenAI Chat (being written)."""

from __future__ import annotations

from clinx.relay.convert.base import Bridge

BRIDGES: list[Bridge] = []
