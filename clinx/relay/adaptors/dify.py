"""Dify (type 37): one Dify app per channel, its API key as the Bearer key. The app's kind, from the channel's
``other`` field, picks the endpoint: chatflow (default), chatbot and agent apps ``/v1/chat-messages``, text
generators ``/v1/completion-messages``, workflows ``/v1/workflows/run``. Dify is always asked for a stream (agent
apps answer no other way, and blocking calls die at Cloudflare's 100 s); a non-stream client's answer is gathered
from it (``aggregate``). Usage: ``message_end``'s, else the LLM nodes' own, else a workflow's total."""

from __future__ import annotations

import base64
import binascii

from clinx.core.errors import UpstreamError, ValidationError
from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors.base import UpstreamCall
from clinx.relay.convert.base import Bridge, Dialect, Event, Json, StreamBridge
from clinx.relay.convert.dify_openai_common import fold_usage, kind_of
from clinx.relay.convert.dify_openai_response import aggregate as aggregate_events
from clinx.relay.convert.dify_openai_stream import DifyToOpenAIStream
from clinx.relay.endpoints import Endpoint
from clinx.relay.errors import RelayUpstreamError

DEFAULT_BASE_URL = "https://api.dify.ai"
PATHS = {
    "chatflow": "/v1/chat-messages",
    "chat": "/v1/chat-messages",
    "chatbot": "/v1/chat-messages",
    "agent": "/v1/chat-messages",
    "completion": "/v1/completion-messages",
    "workflow": "/v1/workflows/run",
}
FINAL_EVENTS = frozenset({"message_end", "workflow_finished"})
SENDER_OWNED = ("model", "stream", "stream_options")  # OpenAI fields a param_override may add: Dify has none


def bot_type(channel: ChannelInfo) -> str:
    kind = channel.other.strip().lower()
    return kind if kind in PATHS else "chatflow"


class Dify:
    name = "dify"
    endpoints: frozenset[Endpoint] = frozenset()
    always_stream = True  # the pipeline asks for a stream even for a non-stream client, then calls aggregate()

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug  # DIFY_DEBUG: show workflow and node progress in streams

    def dialects(self, channel: ChannelInfo) -> tuple[Dialect, ...]:
        return (Dialect.DIFY,)

    def default_base_url(self, channel_type: int) -> str:
        return DEFAULT_BASE_URL

    def base(self, channel: ChannelInfo) -> str:
        # Dify shows its API base as ".../v1"; people paste it as is.
        return (channel.base_url or DEFAULT_BASE_URL).rstrip("/").removesuffix("/v1")

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str, stream: bool) -> str:
        return self.base(channel) + PATHS[bot_type(channel)]

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def prepare(self, body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
        for name in SENDER_OWNED:
            body.pop(name, None)
        body["response_mode"] = "streaming"
        return body

    def usage(self, payload: Json) -> Usage | None:
        """Usage of a blocking answer (chat shape, as ``aggregate`` builds it, or a workflow's)."""
        if "answer" in payload:
            return fold_usage({"event": "message_end", "metadata": payload.get("metadata")}, None)
        return fold_usage({"event": "workflow_finished", "data": payload.get("data")}, None)

    def stream_usage(self, event: Event, current: Usage | None) -> Usage | None:
        if not isinstance(event.data, dict):
            return current
        return fold_usage({**event.data, "event": kind_of(event)}, current)

    def stream_done(self, event: Event) -> bool:
        return isinstance(event.data, dict) and kind_of(event) in FINAL_EVENTS

    def aggregate(self, events: list[Event]) -> Json:
        """A whole Dify stream → the blocking answer the bridge converts; Dify's in-stream errors become upstream
        errors with the status Dify gave them (so retry and auto-disable rules apply)."""
        try:
            return aggregate_events(events)
        except UpstreamError as error:
            raise RelayUpstreamError(error.status, error.message, code=error.code) from error

    def stream_bridge(self, bridge: Bridge) -> StreamBridge:
        """The stream machine for an OpenAI Chat client, with this channel type's debug setting (the registered
        bridge always shows progress); other clients keep their chained bridge."""
        if bridge.client == Dialect.OPENAI_CHAT and bridge.upstream == Dialect.DIFY:
            return DifyToOpenAIStream(debug=self.debug)
        return bridge.stream()

    def upload_call(self, channel: ChannelInfo, key: str, user: str, data_url: str) -> UpstreamCall:
        """The call uploading one base64 image (``inline_images`` of the client's body) to Dify's file API; its
        JSON answer goes to ``uploaded_file``."""
        head, sep, data = data_url.partition(",")
        if not sep or not head.startswith("data:") or not head.endswith(";base64"):
            raise ValidationError("an inline image must be a base64 data URL (data:<mime>;base64,<data>)")
        mime = head[len("data:") : -len(";base64")] or "image/png"
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError("an inline image is not valid base64") from exc
        filename = "image." + (mime.partition("/")[2] or "png")
        form = [("user", user), ("file", (filename, raw, mime))]
        return UpstreamCall("POST", self.base(channel) + "/v1/files/upload", self.headers(channel, key), form=form)

    @staticmethod
    def uploaded_file(payload: Json) -> Json:
        """Dify's upload answer → the ``files`` entry that refers to it."""
        file_id = payload.get("id")
        if not isinstance(file_id, str) or not file_id:
            raise UpstreamError("Dify's file upload answered without a file id", code="bad_response_body")
        return {"type": "image", "transfer_method": "local_file", "upload_file_id": file_id}
