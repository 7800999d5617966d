"""The API surface the relay serves: path, default model, how the body is sent, and for conversational
endpoints the dialect the client speaks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from clinx.relay.convert.base import Dialect


class Endpoint(StrEnum):
    CHAT = "chat"
    COMPLETIONS = "completions"
    EMBEDDINGS = "embeddings"
    IMAGES = "images"
    IMAGE_EDITS = "image_edits"
    SPEECH = "speech"
    TRANSCRIPTION = "transcription"
    TRANSLATION = "translation"
    MODERATIONS = "moderations"
    MESSAGES = "messages"  # Anthropic Messages
    GEMINI = "gemini"  # Gemini generateContent / streamGenerateContent
    RESPONSES = "responses"  # OpenAI Responses
    RERANK = "rerank"  # Cohere / Jina shaped rerank


@dataclass(frozen=True)
class EndpointSpec:
    path: str
    default_model: str = ""
    multipart: bool = False
    streams: bool = False
    binary_response: bool = False


SPECS: dict[Endpoint, EndpointSpec] = {
    Endpoint.CHAT: EndpointSpec("/v1/chat/completions", streams=True),
    Endpoint.COMPLETIONS: EndpointSpec("/v1/completions", streams=True),
    Endpoint.EMBEDDINGS: EndpointSpec("/v1/embeddings"),
    Endpoint.IMAGES: EndpointSpec("/v1/images/generations", default_model="dall-e"),
    Endpoint.IMAGE_EDITS: EndpointSpec("/v1/images/edits", default_model="dall-e", multipart=True),
    Endpoint.SPEECH: EndpointSpec("/v1/audio/speech", default_model="tts-1", binary_response=True),
    Endpoint.TRANSCRIPTION: EndpointSpec("/v1/audio/transcriptions", default_model="whisper-1", multipart=True),
    Endpoint.TRANSLATION: EndpointSpec("/v1/audio/translations", default_model="whisper-1", multipart=True),
    Endpoint.MODERATIONS: EndpointSpec("/v1/moderations", default_model="text-moderation-stable"),
    Endpoint.MESSAGES: EndpointSpec("/v1/messages", streams=True),
    Endpoint.GEMINI: EndpointSpec("/v1beta/models/{model_action}", streams=True),
    Endpoint.RESPONSES: EndpointSpec("/v1/responses", streams=True),
    Endpoint.RERANK: EndpointSpec("/v1/rerank"),
}

# Conversational endpoints: the client's dialect, which may differ from the channel's (then a bridge converts).
CLIENT_DIALECT: dict[Endpoint, Dialect] = {
    Endpoint.CHAT: Dialect.OPENAI_CHAT,
    Endpoint.MESSAGES: Dialect.CLAUDE,
    Endpoint.GEMINI: Dialect.GEMINI,
    Endpoint.RESPONSES: Dialect.OPENAI_RESPONSES,
}
DIALECT_ENDPOINT: dict[Dialect, Endpoint] = {dialect: endpoint for endpoint, dialect in CLIENT_DIALECT.items()}
