"""The OpenAI API surface the relay serves: path, default model and how the body is sent."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
}
