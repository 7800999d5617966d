"""The two bridges between OpenAI Responses (``POST /v1/responses``) and OpenAI Chat Completions.

Responses client over a Chat upstream (most channels):
  survives — instructions, string or item input, message items (developer → system), text / image (URL or
  data URL) / file (file_data, file_id) / audio parts, function tools (``strict`` only when set) and
  tool_choice (allowed_tools → its mode), function_call and function_call_output items (consecutive calls
  merge into one assistant message), reasoning summaries (→ reasoning_content of the next assistant message,
  and back as a reasoning item), text.format (json_object, json_schema) and verbosity, reasoning.effort,
  max_output_tokens (→ max_completion_tokens), temperature, top_p, parallel_tool_calls, user, metadata,
  service_tier, prompt_cache_key, safety_identifier; answers and streams with refusals, usage (cached,
  cache-write and reasoning tokens), length / content_filter → status incomplete.
  lost — built-in tools (web_search, file_search, code_interpreter, computer, mcp…) and their call records,
  encrypted reasoning content, store, include, truncation, top_logprobs, max_tool_calls; refused with a 400:
  previous_response_id, conversation, prompt, background, item_reference, input_image by file_id (all need
  state kept by the Responses API). The Response echoes API defaults, not the request's tools / temperature.
Chat client over a Responses upstream (New API's ``chat_completions_to_responses`` policy):
  survives — system/developer messages (joined into instructions, in order), user/assistant turns, images,
  files, function tools (strict false and empty parameters made explicit: Responses defaults differ), tool
  calls and results, tool_choice (incl. allowed_tools), response_format, verbosity, reasoning_effort (summary
  "auto" is asked for so reasoning_content has text), max_tokens / max_completion_tokens, temperature, top_p,
  answers and streams with reasoning_content, refusals, tool-call deltas, usage, length / content_filter
  finish reasons. ``store`` is false unless the client set it.
  lost — stop sequences, seed, penalties, logit_bias, logprobs, audio output, web_search_options, custom
  tools, the reasoning_content of earlier assistant turns; refused with a 400: n > 1, legacy functions.
"""

from __future__ import annotations

from clinx.relay.convert.base import Bridge, Dialect
from clinx.relay.convert.responses_openai_chat_request import chat_request_to_responses
from clinx.relay.convert.responses_openai_chat_response import responses_response_to_chat
from clinx.relay.convert.responses_openai_chat_stream import ResponsesToChatStream
from clinx.relay.convert.responses_openai_request import responses_request_to_chat
from clinx.relay.convert.responses_openai_response import chat_response_to_responses
from clinx.relay.convert.responses_openai_stream import ChatToResponsesStream

BRIDGES: list[Bridge] = [
    Bridge(
        client=Dialect.OPENAI_RESPONSES,
        upstream=Dialect.OPENAI_CHAT,
        request=responses_request_to_chat,
        response=chat_response_to_responses,
        stream=ChatToResponsesStream,
        fidelity="high",
        lossy=(
            "built-in tools (web_search, file_search, code_interpreter, computer, mcp) are dropped",
            "previous_response_id, conversation, prompt, background and item_reference are refused (no stored state)",
            "input_image by file_id is refused; send image_url",
            "encrypted reasoning content is dropped",
            "store, include, truncation, top_logprobs, max_tool_calls are dropped",
            "the Response echoes API defaults for tools, tool_choice, temperature, top_p, text and reasoning",
        ),
    ),
    Bridge(
        client=Dialect.OPENAI_CHAT,
        upstream=Dialect.OPENAI_RESPONSES,
        request=chat_request_to_responses,
        response=responses_response_to_chat,
        stream=ResponsesToChatStream,
        fidelity="high",
        lossy=(
            "stop sequences are dropped (the Responses API has none)",
            "seed, frequency/presence penalties, logit_bias, logprobs, audio output, web_search_options are dropped",
            "custom (free-form) tools are dropped; legacy functions and n > 1 are refused",
            "reasoning_content of earlier assistant turns is not sent back",
            "system messages anywhere in the conversation are joined into instructions",
        ),
    ),
]
