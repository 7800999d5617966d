"""Fixtures of the relay unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from clinx.relay.http1 import Http1Client


@pytest.fixture
async def client() -> AsyncIterator[Http1Client]:
    http = Http1Client()
    yield http
    await http.close()
