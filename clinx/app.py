"""The composition root: ``create_app`` builds settings, databases, cache, options and routes, and owns the
lifespan (schema upgrade on the master node, option loading, periodic sync)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from clinx.api import docs_routes
from clinx.api.channel_health_routes import channel_test_runner, refresh_all_balances, scheduled_test_all
from clinx.api.envelope import clinx_error_handler, http_error_handler, validation_error_handler
from clinx.api.metrics_node import SnapshotPublisher
from clinx.api.rate_limit_middleware import RateLimitMiddleware
from clinx.api.routes import all_routers
from clinx.app_state import AppState
from clinx.auth.sessions import SessionSigner
from clinx.billing.ledger import QuotaLedger
from clinx.billing.usage_log import UsageLogWriter
from clinx.cache.base import Cache
from clinx.cluster.jobs import Job
from clinx.cluster.node import Cluster, open_links
from clinx.cluster.schedule import leader_jobs
from clinx.config.live import LiveOptions
from clinx.config.option_keys import build_registry
from clinx.config.settings import Settings
from clinx.core.clock import Clock, SystemClock
from clinx.core.errors import ClinxError
from clinx.relay.adaptors.registry import AdaptorRegistry
from clinx.relay.info_routes import info_routes
from clinx.relay.pipeline import Relay
from clinx.relay.playground import playground_routes
from clinx.relay.routes import RelayFastPath, relay_routes
from clinx.relay.upstream import Upstream
from clinx.routing.index import ChannelIndex
from clinx.store.engine import open_databases
from clinx.store.migrate import upgrade_all
from clinx.store.repos import options as options_repo
from clinx.store.repos import setups as setups_repo

log = logging.getLogger("clinx")


def build_state(settings: Settings, *, clock: Clock | None = None, cache: Cache | None = None) -> AppState:
    clock = clock or SystemClock()
    dbs = open_databases(
        settings.sql_dsn, settings.sqlite_path, settings.log_sql_dsn, max_open=settings.sql_max_open_conns
    )
    links = open_links(settings, dbs.main, cache=cache)
    cache = links.cache
    options = LiveOptions(build_registry())
    index = ChannelIndex()
    relay = Relay(
        settings=settings,
        main=dbs.main,
        cache=cache,
        options=options,
        clock=clock,
        index=index,
        writer=UsageLogWriter(dbs.logs, dbs.main),
        ledger=QuotaLedger(dbs.main),
        upstream=Upstream(),
        adaptors=AdaptorRegistry(settings.azure_default_api_version, dify_debug=settings.dify_debug),
        notifier=links.notifier,
    )
    relay.metrics.watch(relay.writer, relay.ledger)
    return AppState(
        settings=settings,
        dbs=dbs,
        cache=cache,
        options=options,
        sessions=SessionSigner(settings.session_secret),
        clock=clock,
        start_time=clock.now(),
        index=index,
        relay=relay,
        cluster=Cluster.build(settings, links, dbs.main, options, index),
    )


async def startup(state: AppState) -> None:
    """Upgrade the schema (master only), adopt an existing root account, load options."""
    if state.settings.is_master and not state.settings.skip_migrate:
        await upgrade_all(state.dbs.main, state.dbs.logs)
        if await setups_repo.adopt_existing_root(state.dbs.main, state.version, state.clock.now()):
            log.info("existing root account found: setup marked as done")
    if not await state.cache.ping():
        raise ClinxError("Redis (REDIS_CONN_STRING) does not answer; check the URL or unset it")
    state.options.replace(await options_repo.load_all(state.dbs.main))
    await state.index.reload(state.dbs.main)
    await state.relay.upstream.open()
    state.relay.writer.start()
    state.relay.ledger.start()


async def shutdown(state: AppState) -> None:
    """Finish in-flight settlements, drain the usage-log writer, close pools."""
    await state.relay.drain()
    await state.relay.ledger.close()
    await state.relay.writer.close()
    await state.relay.upstream.close()
    await state.cache.close()
    await state.dbs.dispose()


def _leader_jobs(app: FastAPI, state: AppState) -> list[Job]:
    """What the leader node runs in the background (clinx/cluster/schedule.py has the intervals)."""
    return leader_jobs(
        state.settings,
        state.options,
        state.dbs.logs,
        test_all=lambda: scheduled_test_all(state, channel_test_runner(app)),
        refresh_balances=lambda: refresh_all_balances(state),
    )


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, cache: Cache | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    state = build_state(settings, clock=clock, cache=cache)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await startup(state)
        # Change propagation (pub/sub, with SYNC_FREQUENCY polling as the fallback) and the leader's jobs.
        await state.cluster.start(_leader_jobs(_app, state))
        # With several workers (CLINX_METRICS_DIR set), share this worker's metrics for node-wide scrapes.
        publisher = SnapshotPublisher(state.relay.metrics.registry, state.settings.metrics_dir)
        publisher.start()
        try:
            yield
        finally:
            await state.cluster.stop()
            await publisher.close()
            await shutdown(state)

    app = FastAPI(
        title="Clinx",
        version=state.version,
        description="LLM gateway and AI asset manager, compatible with New API's management and relay APIs.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.clinx = state
    app.add_middleware(RateLimitMiddleware, settings=state.settings, cache=state.cache)
    app.add_middleware(RelayFastPath, relay=state.relay)  # added last = outermost: relay traffic skips the rest
    app.add_exception_handler(ClinxError, clinx_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    for router in all_routers():
        app.include_router(router)
    # Relay routes first: they carry the traffic, and Starlette matches routes in order.
    app.router.routes[0:0] = [*relay_routes(), *info_routes(), *playground_routes()]
    docs_routes.mount(app)
    return app
