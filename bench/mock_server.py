"""Run the mock OpenAI provider standalone for the benchmark:
`python bench/mock_server.py --port 18080 [--chunks 20] [--delay-ms 0]`. Stops on Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path

# Run as a script from anywhere: make the repository root importable for `tests.support`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.mock_provider import MockProvider


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Mock OpenAI upstream for benchmarks (127.0.0.1 only).")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--chunks", type=int, default=20, help="reply length in words / stream chunks")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="pause between stream chunks")
    parser.add_argument("--slow-seconds", type=float, default=2.0, help="first-byte delay for model mock-slow")
    parser.add_argument("--coalesce", action="store_true", help="send an undelayed stream in one write")
    parser.add_argument("--record", action="store_true", help="keep received requests (grows memory)")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    provider = MockProvider(
        chunks=args.chunks,
        delay=args.delay_ms / 1000,
        slow_seconds=args.slow_seconds,
        record=args.record,
        coalesce=args.coalesce,
        require_auth=False,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    url = await provider.start(port=args.port)
    print(f"mock provider listening on {url}", flush=True)
    try:
        await stop.wait()
    finally:
        await provider.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # uvloop comes with uvicorn[standard]; plain asyncio still works
        pass
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve(args))


if __name__ == "__main__":
    main()
