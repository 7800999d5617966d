"""The bridge from OpenAI Chat Completions to Dify apps (chatflow, chatbot, agent, text generator, workflow); Dify
is an upstream only. The work is in the ``dify_openai_*`` modules (request, response and ``aggregate``, stream).

A Dify app is a whole application, not a model: its prompt, model, tools and parameters are configured in Dify, so
most OpenAI request fields have nothing to map to.

OpenAI client over a Dify channel — survives: the last user message's text (``query``, and ``inputs.query`` for
text-generator and workflow apps), earlier turns and system prompts folded into the query as a labelled transcript,
images of the last user message given by URL (``files``, remote_url), ``user`` ("clinx" when absent), and the
non-OpenAI body fields ``inputs``, ``conversation_id`` (Dify's own memory: only the last message is then sent) and
``auto_generate_name`` (false by default); answers, agent answers, workflow text chunks (or a workflow's outputs),
reasoning chunks, tool-made files (as Markdown links), usage (``message_end``, else the LLM nodes' own usage, else
a workflow's total counted as prompt tokens), errors; with debug on, workflow and node progress as
``reasoning_content`` lines. Lost: base64 images (they need Dify's upload API: see ``inline_images``), images of
earlier turns, non-image media, tools and tool calls (text only; Dify apps bring their own tools), every sampling
parameter (temperature, max_tokens, stop, response_format…: set in the Dify app), n > 1, agent thoughts, retriever
resources, TTS audio, the model name (answers say "dify"), finish reasons (always "stop"), and in streams an answer
replaced by moderation (the replacement is appended).
"""

from __future__ import annotations

from clinx.relay.convert.base import Bridge, Dialect
from clinx.relay.convert.dify_openai_request import openai_request_to_dify
from clinx.relay.convert.dify_openai_response import dify_response_to_openai
from clinx.relay.convert.dify_openai_stream import DifyToOpenAIStream

BRIDGES: list[Bridge] = [
    Bridge(
        client=Dialect.OPENAI_CHAT,
        upstream=Dialect.DIFY,
        request=openai_request_to_dify,
        response=dify_response_to_openai,
        # The registered machine shows workflow/node progress (DIFY_DEBUG's default); the adaptor builds one
        # with the configured setting.
        stream=DifyToOpenAIStream,
        fidelity="partial",
        lossy=(
            "earlier turns are folded into one query as a transcript (Dify keeps history by conversation_id)",
            "base64 images are dropped (they need Dify's upload API); images of earlier turns are dropped",
            "tools, tool calls and sampling parameters are dropped: the Dify app defines them",
            "finish reasons are always stop; the model is reported as dify",
            "agent thoughts, retriever resources and TTS audio are dropped",
        ),
    ),
]
