"""The console playground: ``POST /pg/chat/completions`` on the login session instead of an API key.

The group comes from the body; the call is billed to the wallet only (no key quota), as New API does. The
session needs the ``New-Api-User`` header like every cookie-authenticated call (CSRF guard)."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from clinx.auth.sessions import COOKIE_NAME, SessionSigner
from clinx.core.errors import AuthError, ClinxError
from clinx.relay.endpoints import Endpoint
from clinx.relay.errors import openai_error
from clinx.relay.metrics import measured
from clinx.relay.pipeline import Relay
from clinx.relay.routes import build_request, new_request_id, relay_of
from clinx.store.repos import users as users_repo


async def _session_user(request: Request) -> int:
    signer: SessionSigner = request.app.state.clinx.sessions
    data = signer.loads(request.cookies.get(COOKIE_NAME, ""))
    if data is None:
        raise AuthError("无权进行此操作，未登录 (log in to use the playground)")
    if request.headers.get("New-Api-User", "").strip() != str(data.user_id):
        raise AuthError("无权进行此操作，New-Api-User 与登录用户不匹配")
    user = await users_repo.get(relay_of(request).main, data.user_id)
    if user is None or int(user.get("auth_version") or 1) != data.auth_version:
        raise AuthError("无权进行此操作，登录已失效 (the session has ended; log in again)")
    return data.user_id


async def _chat(request: Request, relay: Relay) -> Response:
    request_id = new_request_id()
    try:
        user_id = await _session_user(request)
        relay_request = await build_request(request, Endpoint.CHAT, relay, request_id)
    except ClinxError as error:
        return openai_error(error, request_id)
    except ClientDisconnect:
        return Response(status_code=499)
    relay_request.raw_key = ""
    relay_request.playground_user_id = user_id
    relay_request.playground_group = str((relay_request.body or {}).get("group") or "")
    if relay_request.body is not None:
        relay_request.body.pop("group", None)
    return await relay.handle(relay_request)


_measured_chat = measured(Endpoint.CHAT, _chat)


async def playground_chat(request: Request) -> Response:
    return await _measured_chat(request, relay_of(request))


def playground_routes() -> list[BaseRoute]:
    return [Route("/pg/chat/completions", playground_chat, methods=["POST"])]
