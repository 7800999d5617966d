"""The leader's jobs and their intervals: scheduled channel tests (CHANNEL_TEST_FREQUENCY minutes, or the
``monitor_setting.auto_test_channel_*`` options), balance refreshes (CHANNEL_UPDATE_FREQUENCY minutes) and the
deletion of usage logs older than CLINX_LOG_RETENTION_DAYS. Testing and balance queries are the management
API's own code, handed in by the composition root (they send through the relay, which this layer cannot see)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from clinx.cluster.jobs import Job
from clinx.config.live import LiveOptions
from clinx.config.options import OptionsSnapshot
from clinx.config.settings import Settings
from clinx.store.engine import Engine
from clinx.store.repos import logs as logs_repo

log = logging.getLogger(__name__)
LOG_CLEANUP_EVERY = 3600.0  # seconds
DAY = 86_400


def channel_test_seconds(settings: Settings, options: OptionsSnapshot) -> float:
    """CHANNEL_TEST_FREQUENCY wins (as in New API); otherwise the monitor options; 0 = no scheduled tests."""
    if settings.channel_test_frequency > 0:
        return settings.channel_test_frequency * 60.0
    if not options.get_bool("monitor_setting.auto_test_channel_enabled"):
        return 0.0
    return max(0.0, options.get_float("monitor_setting.auto_test_channel_minutes")) * 60.0


async def delete_old_logs(engine: Engine, days: int, *, now: Callable[[], float] = time.time) -> int:
    """Delete usage logs created more than ``days`` days ago (in batches; see logs_repo.delete_before)."""
    deleted = await logs_repo.delete_before(engine, int(now()) - days * DAY)
    if deleted:
        log.info("deleted %d usage logs older than %d days", deleted, days)
    return deleted


def leader_jobs(
    settings: Settings,
    options: LiveOptions,
    logs_engine: Engine,
    *,
    test_all: Callable[[], Awaitable[object]],
    refresh_balances: Callable[[], Awaitable[object]],
) -> list[Job]:
    days = settings.log_retention_days
    return [
        Job("channel tests", lambda: channel_test_seconds(settings, options.current), test_all),
        Job("balance refresh", lambda: settings.channel_update_frequency * 60.0, refresh_balances),
        Job(
            "log cleanup",
            lambda: LOG_CLEANUP_EVERY if days > 0 else 0.0,
            lambda: delete_old_logs(logs_engine, days),
            at_start=True,
        ),
    ]
