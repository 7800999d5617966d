"""The ``clinx`` command: serve, migrate, and create or reset the root account from the shell."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator, Sequence

from clinx import __version__
from clinx.config.settings import Settings
from clinx.core.errors import ClinxError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clinx", description="Clinx LLM gateway (New API compatible)")
    parser.add_argument("--version", action="version", version=f"clinx v{__version__}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the gateway (default command)")
    serve.add_argument("--port", type=int, help="listen port (PORT overrides it, as in New API)")
    serve.add_argument("--host", help="listen address (default 0.0.0.0)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument("--log-dir", help="log directory (default ./logs)")
    sub.add_parser("migrate", help="create or upgrade the database schema in place, then exit")
    root = sub.add_parser("root-password", help="create the root account or reset its password")
    root.add_argument("--username", default="root", help="root username when creating it (default root)")
    root.add_argument("--password", help="new password (8-20 characters); prompted when omitted")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    command = args.command or "serve"
    try:
        if command == "migrate":
            return asyncio.run(_migrate())
        if command == "root-password":
            return asyncio.run(_root_password(args.username, args.password))
        return _serve(args)
    except ClinxError as exc:
        print(f"clinx: {exc.message}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.port and not os.environ.get("PORT"):
        os.environ["PORT"] = str(args.port)
    if args.log_dir:
        os.environ["LOG_DIR"] = args.log_dir
    if args.host:
        os.environ["HOST"] = args.host
    settings = Settings.from_env()
    os.makedirs(settings.log_dir, exist_ok=True)
    workers = max(1, int(getattr(args, "workers", 1) or 1))
    if workers > 1:
        # Workers must share one session secret, and the schema is upgraded once, here, before they start.
        os.environ.setdefault(
            "SESSION_SECRET",
            settings.session_secret if not settings.session_secret_generated else secrets.token_urlsafe(32),
        )
        if settings.is_master:
            asyncio.run(_migrate())
        os.environ["CLINX_SKIP_MIGRATE"] = "true"
    with shared_metrics_dir(workers), shared_workers_dir(workers):
        uvicorn.run(
            "clinx.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            loop="auto",
            http="clinx.http_protocol:CoalescingHttpToolsProtocol",  # one send per answer, not two
            log_level="debug" if settings.debug else "info",
            # SIGTERM: stop accepting, let in-flight answers and streams finish for this long, then cut them (each
            # is billed for what it delivered) and drain settlements, leases and logs in the lifespan shutdown.
            timeout_graceful_shutdown=settings.shutdown_timeout_seconds or None,
            access_log=settings.debug,
        )
    return 0


def shared_metrics_dir(workers: int) -> contextlib.AbstractContextManager[str]:
    """Workers answer /metrics for the whole node by sharing snapshots in CLINX_METRICS_DIR."""
    return shared_dir("CLINX_METRICS_DIR", workers)


def shared_workers_dir(workers: int) -> contextlib.AbstractContextManager[str]:
    """Without Redis, workers tell each other of changes and deleted cache keys over a bus on 127.0.0.1; they
    find each other's ports in CLINX_WORKERS_DIR."""
    return shared_dir("CLINX_WORKERS_DIR", workers)


@contextlib.contextmanager
def shared_dir(variable: str, workers: int) -> Iterator[str]:
    """A directory the workers share, named in ``variable``: a fresh one made here and removed at exit, unless
    the operator set one (then it is theirs to keep)."""
    chosen = os.environ.get(variable, "")
    if workers < 2 or chosen:
        yield chosen
        return
    prefix = variable.removeprefix("CLINX_").removesuffix("_DIR").lower()
    with tempfile.TemporaryDirectory(prefix=f"clinx-{prefix}-") as directory:
        os.environ[variable] = directory
        try:
            yield directory
        finally:
            os.environ.pop(variable, None)


async def _migrate() -> int:
    from clinx.store.engine import open_databases
    from clinx.store.migrate import upgrade_all

    settings = Settings.from_env()
    dbs = open_databases(settings.sql_dsn, settings.sqlite_path, settings.log_sql_dsn)
    try:
        report = await upgrade_all(dbs.main, dbs.logs)
    finally:
        await dbs.dispose()
    print(
        f"schema up to date ({dbs.kind}): {len(report.created_tables)} tables created, "
        f"{len(report.added_columns)} columns added, {len(report.created_indexes)} indexes created"
    )
    return 0


async def _root_password(username: str, password: str | None) -> int:
    from clinx.auth.passwords import check_password_policy
    from clinx.auth.root_account import set_root_password

    if password is None:
        password = getpass.getpass("New root password (8-20 characters): ")
        if getpass.getpass("Repeat it: ") != password:
            print("clinx: the passwords differ", file=sys.stderr)
            return 2
    check_password_policy(password)
    settings = Settings.from_env()
    created, name = await set_root_password(settings, username, password)
    print(f"root account {name!r} {'created' if created else 'password reset'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
