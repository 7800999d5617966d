"""Bridges between Gemini generateContent and OpenAI Chat Completions, both ways; the work is in the
``gemini_openai_*`` modules (one per direction and phase, plus shared helpers and schema conversion).

Where a Gemini thought signature lives on the OpenAI side (the field Google's own OpenAI-compatible endpoint uses):
``tool_calls[].extra_content.google.thought_signature`` for a function call's, and the message's (or delta's)
``extra_content.google.thought_signature`` for a text or thought part's. Thinking text is ``reasoning_content``.

Gemini client over an OpenAI channel — survives: system instruction, multi-turn, text, images (inline and by URL),
inline audio, other inline files (as ``file`` parts), function declarations (``parameters`` turned into JSON
Schema, or ``parametersJsonSchema`` as is), function calls and responses (ids generated and matched by name),
functionCallingConfig, JSON mode and response schemas, stop sequences, max tokens, temperature, topP, seed,
penalties, logprobs, candidateCount, thinking config (as ``reasoning_effort``), thoughts and signatures,
finish reasons, usage with cached and thinking tokens. Lost: topK, safetySettings, cachedContent, built-in tools
(Google Search, code execution, URL context), media in model turns, fileData that is not an image, more than one
signature per message on text/thought parts (the first is kept), exact thinking budgets (bands).

OpenAI client over a Gemini channel — survives: system/developer messages, multi-turn, text, images (data URLs
inline, http URLs as fileData), input audio, file data, tools (schemas reduced to Gemini's OpenAPI subset),
tool_choice, tool calls and results, JSON mode and json_schema, stop, max tokens, temperature, top_p, seed,
penalties, logprobs, n, reasoning_effort (as a thinking budget), reasoning text and signatures, finish reasons,
usage with cached and reasoning tokens (tool-use prompt tokens count as prompt tokens). For a ``gemini-3`` model, a
replayed tool call without a signature gets Google's documented ``skip_thought_signature_validator``. Lost:
logit_bias, parallel_tool_calls, user, metadata, service_tier, file ids, the position of system messages inside the
conversation, schema keywords outside Gemini's subset, Gemini's safety ratings, citations and grounding metadata,
code execution parts.
"""

from __future__ import annotations

from clinx.relay.convert.base import Bridge, Dialect
from clinx.relay.convert.gemini_openai_to_gemini_request import openai_request_to_gemini
from clinx.relay.convert.gemini_openai_to_gemini_response import openai_response_to_gemini
from clinx.relay.convert.gemini_openai_to_gemini_stream import OpenAIToGeminiStream
from clinx.relay.convert.gemini_openai_to_openai_request import gemini_request_to_openai
from clinx.relay.convert.gemini_openai_to_openai_response import gemini_response_to_openai
from clinx.relay.convert.gemini_openai_to_openai_stream import GeminiToOpenAIStream

BRIDGES: list[Bridge] = [
    Bridge(
        client=Dialect.GEMINI,
        upstream=Dialect.OPENAI_CHAT,
        request=gemini_request_to_openai,
        response=openai_response_to_gemini,
        stream=OpenAIToGeminiStream,
        fidelity="high",
        lossy=(
            "topK, safetySettings and cachedContent are dropped",
            "built-in tools (Google Search, code execution, URL context) are dropped",
            "thinkingBudget becomes a reasoning_effort band",
            "media in model turns and non-image fileData cannot be expressed",
        ),
    ),
    Bridge(
        client=Dialect.OPENAI_CHAT,
        upstream=Dialect.GEMINI,
        request=openai_request_to_gemini,
        response=gemini_response_to_openai,
        stream=GeminiToOpenAIStream,
        fidelity="high",
        lossy=(
            "logit_bias, parallel_tool_calls, user and metadata are dropped",
            "tool schemas are reduced to Gemini's OpenAPI subset",
            "reasoning_effort becomes a fixed thinking budget",
            "system messages inside the conversation move to systemInstruction",
            "safety ratings, citations and grounding metadata are dropped",
        ),
    ),
]
