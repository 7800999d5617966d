"""GET /metrics: the node's metrics in Prometheus' text format. Not public by default — the figures describe
traffic and spend: an admin (session or access token) may read them, a scraper with ``CLINX_METRICS_TOKEN`` as
its bearer token, or anyone when ``CLINX_METRICS_PUBLIC=true``."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from starlette.responses import Response

from clinx.api.deps import State, optional_caller
from clinx.api.metrics_node import scrape
from clinx.app_state import AppState
from clinx.core.enums import Role
from clinx.core.errors import AuthError, ForbiddenError
from clinx.core.metrics_text import CONTENT_TYPE, render

router = APIRouter(tags=["operations"])


def _scraper_token_ok(request: Request, token: str) -> bool:
    if not token:
        return False
    sent = request.headers.get("Authorization", "").strip()
    if not sent.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(sent[7:].strip().encode(), token.encode())


async def _authorize(request: Request, state: AppState) -> None:
    settings = state.settings
    if settings.metrics_public or _scraper_token_ok(request, settings.metrics_token):
        return
    caller = await optional_caller(request, state)
    if caller is None:
        raise AuthError("无权进行此操作 (send an admin session, an admin access token, or CLINX_METRICS_TOKEN)")
    if caller.role < Role.ADMIN:
        raise ForbiddenError("无权进行此操作，权限不足 (metrics are for administrators)")


# Outside the OpenAPI document: it is not part of the management API and answers text, not the JSON envelope.
@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, state: State) -> Response:
    await _authorize(request, state)
    families = await scrape(state.relay.metrics.registry, state.settings.metrics_dir)
    return Response(render(families), media_type=CONTENT_TYPE)
