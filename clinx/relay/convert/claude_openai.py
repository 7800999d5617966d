"""Bridges between Anthropic Messages (``claude``) and OpenAI Chat Completions (``openai_chat``), both ways;
the conversions live in the ``claude_openai_*`` modules, this one assembles ``BRIDGES``.

Claude client over an OpenAI-style channel — survives: system (blocks joined with "\\n"), turns, text,
images (base64 → data URL, url), base64 PDFs (→ ``file`` parts), tools, tool_choice (auto/any/tool/none →
auto/required/function/none), disable_parallel_tool_use (→ parallel_tool_calls false), tool calls and results
(results → ``tool`` messages placed before the rest of the user turn; ``is_error`` → content prefixed
"Error: "; images inside results → the following user message), thinking (→ ``reasoning_content``),
stop_sequences, max_tokens, temperature, top_p, structured output (``output_config.format`` →
``response_format`` json_schema), ``output_config.effort`` or the thinking budget → ``reasoning_effort``
(budget ≤ 1024 low, ≤ 8192 medium, else high), metadata.user_id → user, stream. Answers: reasoning
(``reasoning_content`` or ``reasoning``) → a thinking block (signature from ``reasoning_signature``, else ""),
text, tool calls (arguments that are not a JSON object → ``{"_raw": text}``), finish_reason (stop →
end_turn, or tool_use when tool calls came back; length → max_tokens; tool_calls → tool_use;
content_filter → refusal), usage (input_tokens = prompt − cached − cache writes; cache reads and writes
from ``prompt_tokens_details.cached_tokens`` / ``cached_creation_tokens``). Streams: message_start carries
zero usage (OpenAI reports it only at the end) and message_delta the full cumulative usage (output_tokens 0
when none came); a cut stream closes its open blocks and ends with stop_reason null. Lost: cache_control,
top_k, signatures and redacted thinking sent upstream, server tools and their result blocks, image/document
sources by file id or document URL (rejected), which stop sequence matched (reads as end_turn).

OpenAI client over a Claude channel — survives: system/developer messages (hoisted, joined with "\\n"),
turns (consecutive same-role turns merged), text, images (data URL → base64, http(s) → url), inline
``file_data`` PDFs (→ document blocks), tools, tool_choice (required → any, function → tool, none),
parallel_tool_calls false, tool calls (arguments parsed) and results (consecutive ``tool`` messages → one user
turn of tool_result blocks; ids outside ``[A-Za-z0-9_-]`` sanitised), reasoning (an assistant's
``reasoning_content`` is sent back as a thinking block only with its ``reasoning_signature``), max_tokens or
max_completion_tokens (default 8192, New API's claude.default_max_tokens), stop (whitespace-only entries
dropped), temperature, top_p, ``reasoning_effort`` → thinking budget (low 1024, medium 4096, high 16384,
xhigh 32768; max_tokens raised by the budget when not above it; temperature/top_p dropped; skipped when
tool_choice forces a tool), user → metadata.user_id, stream. Answers: id "chatcmpl-" + message id,
``created`` 0 (Claude sends no timestamp; the pipeline may stamp one), text blocks joined, thinking →
``reasoning_content`` and, for a single thinking block, its signature → ``reasoning_signature`` (streams send
``signature_delta`` as ``reasoning_signature`` deltas), finish_reason (end_turn/stop_sequence/pause_turn →
stop, max_tokens → length, tool_use → tool_calls, refusal → content_filter), usage (prompt_tokens = input +
cache reads + cache writes; ``prompt_tokens_details.cached_tokens`` = cache reads; **cache writes in
``usage.prompt_tokens_details.cached_creation_tokens``**, plus ``usage.claude_cache_creation_5_m_tokens`` /
``claude_cache_creation_1_h_tokens`` when Claude splits them). Lost: response_format (JSON mode and
schemas), n > 1, seed, penalties, logit_bias, logprobs, audio, stream_options, a system message's position,
redacted thinking, server-tool blocks.
"""

from __future__ import annotations

from clinx.relay.convert.base import Bridge, Dialect
from clinx.relay.convert.claude_openai_from_chat_response import from_chat_response
from clinx.relay.convert.claude_openai_from_chat_stream import ChatToClaudeStream
from clinx.relay.convert.claude_openai_from_claude_response import from_claude_response
from clinx.relay.convert.claude_openai_from_claude_stream import ClaudeToChatStream
from clinx.relay.convert.claude_openai_to_chat_request import to_chat_request
from clinx.relay.convert.claude_openai_to_claude_request import to_claude_request

BRIDGES: list[Bridge] = [
    Bridge(
        client=Dialect.CLAUDE,
        upstream=Dialect.OPENAI_CHAT,
        request=to_chat_request,
        response=from_chat_response,
        stream=ChatToClaudeStream,
        fidelity="high",
        lossy=(
            "cache_control breakpoints",
            "top_k",
            "thinking signatures and redacted thinking sent upstream",
            "server tools (web search, code execution…) and their result blocks",
            "file-id image/document sources and document URLs (rejected)",
            "which stop sequence matched (reported as end_turn)",
            "input token counts in message_start (sent in message_delta)",
        ),
    ),
    Bridge(
        client=Dialect.OPENAI_CHAT,
        upstream=Dialect.CLAUDE,
        request=to_claude_request,
        response=from_claude_response,
        stream=ClaudeToChatStream,
        fidelity="high",
        lossy=(
            "response_format (JSON mode and JSON schema)",
            "n > 1",
            "seed, presence/frequency penalties, logit_bias, logprobs",
            "audio input and output",
            "position of system messages (hoisted to the top)",
            "reasoning_content without reasoning_signature in history",
            "temperature/top_p when reasoning_effort enables thinking",
            "created timestamp (0)",
        ),
    ),
]
