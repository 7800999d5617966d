"""Channel health (admin): test one channel or all of them (re-enabling or disabling by the answer, logging the
cost without charging anyone) and refresh provider balances. Registered before channels_routes so that
/test and /update_balance are not taken for a channel id."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Path, Request

from clinx.api import channel_schemas as schemas
from clinx.api.deps import AdminCaller, State
from clinx.api.envelope import JSONBody, fail, ok
from clinx.app_state import AppState
from clinx.billing.price_table import resolve_price
from clinx.billing.pricing import quota_for
from clinx.core.enums import ChannelStatus, LogType
from clinx.core.errors import ClinxError, NotFoundError, UpstreamError
from clinx.core.types import ChannelInfo, Price, Usage, UserInfo
from clinx.relay.adaptors.base import UpstreamCall
from clinx.relay.context import RelayContext, RelayRequest
from clinx.relay.endpoints import Endpoint
from clinx.relay.errors import RelayUpstreamError, parse_upstream_error
from clinx.relay.health import should_disable
from clinx.relay.outbound import Outbound, build
from clinx.relay.pipeline import Relay
from clinx.relay.shaping import map_model
from clinx.relay.upstream import TransportError
from clinx.routing import balance as balances
from clinx.routing import channel_test as probe
from clinx.routing.changes import channels_changed
from clinx.routing.index import channel_info
from clinx.store.repos import channels as channels_repo
from clinx.store.repos import logs as logs_repo
from clinx.store.repos import users as users_repo
from clinx.store.repos.wallet import Account
from clinx.store.rows import Row

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/channel", tags=["channels"])

ChannelId = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]
NOT_FOUND = "渠道不存在 (no channel with this id)"
ALREADY_RUNNING = "测试已在运行中"
DEFAULT_TIMEOUT = 60.0  # seconds, when RELAY_TIMEOUT leaves upstream calls unbounded: a test must end
LOW_BALANCE = "余额不足"


@dataclass(frozen=True)
class TestOutcome:
    success: bool
    message: str = ""
    seconds: float = 0.0
    error_code: str = ""

    def answer(self) -> JSONBody:
        body: dict[str, Any] = {"success": self.success, "message": self.message, "time": round(self.seconds, 3)}
        if not self.success and self.error_code:
            body["error_code"] = self.error_code
        return JSONBody(body)


@dataclass
class TestAllRunner:
    """The one test-all run of this process, attached to ``app.state.channel_test_runner``. The task itself is
    held (and drained at shutdown) by the relay's background set."""

    running: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.finished.set()

    def start(self, relay: Relay, work: Callable[[], Awaitable[None]]) -> bool:
        if self.running:
            return False
        self.running = True
        self.finished.clear()
        relay.spawn(self._run(work))
        return True

    async def _run(self, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        finally:
            self.running = False
            self.finished.set()

    async def run_now(self, work: Callable[[], Awaitable[None]]) -> bool:
        """Run ``work`` in the calling task (the leader's scheduled run, which a lost lease must be able to
        cancel); False, doing nothing, when a run is already going."""
        if self.running:
            return False
        self.running = True
        self.finished.clear()
        await self._run(work)
        return True

    async def wait(self) -> None:
        await self.finished.wait()


def channel_test_runner(app: FastAPI) -> TestAllRunner:
    runner = getattr(app.state, "channel_test_runner", None)
    if not isinstance(runner, TestAllRunner):
        runner = TestAllRunner()
        app.state.channel_test_runner = runner
    return runner


def _timeout(state: AppState) -> float:
    return float(state.settings.relay_timeout) or DEFAULT_TIMEOUT


def _error_code(error: ClinxError) -> str:
    return error.code if ":" not in error.code else ""


# one channel test


def _probe_call(state: AppState, channel: ChannelInfo, model: str) -> tuple[Outbound, str, bool]:
    """The test request for ``channel`` (in the channel's own dialect, through the relay's outbound builder),
    its upstream model name and whether it is an embeddings test."""
    upstream_model = map_model(model, channel.model_mapping)
    embedding = probe.is_embedding(model) or probe.is_embedding(upstream_model)
    endpoint = Endpoint.EMBEDDINGS if embedding else Endpoint.CHAT
    adaptor = state.relay.adaptors.for_type(channel.type)
    request = RelayRequest(
        endpoint=endpoint,
        model=model,
        body=probe.probe_body(upstream_model),
        form=None,
        stream=False,
        client_ip="",
        request_id="channel-test",
    )
    ctx = RelayContext(
        request=request,
        token=None,
        user=UserInfo(id=0, username="", group="", status=1, role=0, quota=0),
        group="",
        price=Price(),
        account=Account(user_id=0, token_id=0, charge_token=False),
    )
    outbound = build(ctx, channel, adaptor, ask_usage=False, rng=random.Random())
    return outbound, upstream_model, embedding


async def _exchange(
    state: AppState, channel: ChannelInfo, outbound: Outbound, *, embedding: bool
) -> tuple[ClinxError | None, dict[str, Any] | None]:
    """Send the test (signed or authorized as the relay does); answer the failure, or the usable payload."""
    timeout = _timeout(state)
    call = outbound.call
    try:
        authorize = getattr(state.relay.adaptors.for_type(channel.type), "authorize", None)
        if authorize is not None:
            await authorize(call, outbound.key, state.relay.upstream)
        response = await state.relay.upstream.send(call, total=timeout, idle=timeout)
        try:
            raw = await response.read()
        finally:
            response.release()
    except UpstreamError as error:
        return error, None
    except (TransportError, TimeoutError) as exc:
        cut = UpstreamError(f"上游响应读取失败 (the upstream answer was cut): {exc}", code="read_response_body_failed")
        return cut, None
    upstream_id = response.headers.get("x-request-id", "")
    if response.status >= 400:
        return parse_upstream_error(response.status, raw, upstream_id), None
    verdict = probe.judge(raw, embedding=embedding)
    if not verdict.ok:
        # Kept as an upstream error so that disabling keywords in a 200-with-error answer still count.
        return RelayUpstreamError(response.status, verdict.message, code=verdict.code, raw=raw), None
    return None, verdict.payload


async def _log_test(
    state: AppState, channel: ChannelInfo, tester: Row, models: tuple[str, str], payload: dict[str, Any], seconds: float
) -> None:
    """A consume row with the cost of the test, as New API writes it; nobody's wallet is charged."""
    options = state.options.current
    if not options.get_bool("LogConsumeEnabled"):
        return
    model, upstream_model = models
    usage = state.relay.adaptors.for_type(channel.type).usage(payload) or Usage()
    group = str(tester.get("group") or "default")
    price = resolve_price(options, model, group)
    other: dict[str, Any] = {"admin_info": {"use_channel": [channel.id]}, "request_path": "channel_test"}
    if price is not None:
        other.update(
            model_ratio=price.model_ratio,
            group_ratio=price.group_ratio,
            completion_ratio=price.completion_ratio,
            cache_tokens=usage.cached_tokens,
            cache_ratio=price.cache_ratio,
            model_price=price.model_price if price.per_call else -1,
        )
    if upstream_model != model:
        other.update(is_model_mapped=True, upstream_model_name=upstream_model)
    await logs_repo.insert_log(
        state.dbs.logs,
        {
            "user_id": int(tester["id"]),
            "created_at": state.clock.now(),
            "type": int(LogType.CONSUME),
            "content": probe.TEST_TOKEN_NAME,
            "username": str(tester.get("username") or ""),
            "token_name": probe.TEST_TOKEN_NAME,
            "model_name": model,
            "quota": quota_for(usage, price) if price is not None else 0,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "use_time": int(seconds),
            "is_stream": False,
            "channel_id": channel.id,
            "token_id": 0,
            "group": group,
            "ip": "",
            "request_id": "",
            "upstream_request_id": "",
            "other": orjson.dumps(other).decode(),
        },
    )


def _disables(state: AppState, error: ClinxError) -> bool:
    o = state.options.current
    if error.code == probe.TOO_SLOW:
        return True
    return should_disable(error, o.get_str("AutomaticDisableStatusCodes"), o.get_str("AutomaticDisableKeywords"))


async def _apply_health(state: AppState, channel: ChannelInfo, error: ClinxError | None) -> None:
    """Re-enable an auto-disabled channel after a clean test, or disable one by the relay's rules."""
    o = state.options.current
    main = state.dbs.main
    changed = False
    if error is None:
        if o.get_bool("AutomaticEnableChannelEnabled") and channel.status == ChannelStatus.AUTO_DISABLED:
            changed = await channels_repo.enable_if_auto_disabled(main, channel.id)
            if changed:
                log.warning("channel #%d %s enabled again after a clean test", channel.id, channel.name)
    elif o.get_bool("AutomaticDisableChannelEnabled") and channel.auto_ban and _disables(state, error):
        changed = await channels_repo.auto_disable(main, channel.id, error.message[:500], state.clock.now())
        if changed:
            log.warning("channel #%d %s disabled after a failed test: %s", channel.id, channel.name, error.message)
    if changed:
        await channels_changed(state.index, main, state.relay.notifier)


async def run_test(
    state: AppState, row: Row, requested_model: str, tester: Row, *, latency_limit: float = 0.0
) -> TestOutcome:
    """Test one channel (any status); ``latency_limit`` seconds (0 = none) turns a slow answer into a failure."""
    channel = channel_info(row)
    model = probe.pick_model(channel, requested_model)
    try:
        outbound, upstream_model, embedding = _probe_call(state, channel, model)
    except ClinxError as local:  # the channel's own configuration is wrong: nothing was sent
        return TestOutcome(False, local.message, 0.0, _error_code(local))
    loop = asyncio.get_running_loop()
    started = loop.time()
    error, payload = await _exchange(state, channel, outbound, embedding=embedding)
    seconds = loop.time() - started
    slow = probe.too_slow(seconds, latency_limit) if error is None else ""
    if slow:
        error = UpstreamError(slow, code=probe.TOO_SLOW, status=408)
    await channels_repo.record_test(state.dbs.main, channel.id, round(seconds * 1000), state.clock.now())
    if payload is not None:
        await _log_test(state, channel, tester, (model, upstream_model), payload, seconds)
    await _apply_health(state, channel, error)
    if error is not None:
        return TestOutcome(False, error.message, seconds, _error_code(error) or "bad_response_status_code")
    return TestOutcome(True, "", seconds)


async def _test_all(state: AppState, tester: Row) -> None:
    o = state.options.current
    threshold = o.get_float("ChannelDisableThreshold") if o.get_bool("AutomaticDisableChannelEnabled") else 0.0
    for n, row in enumerate(await channels_repo.all_channels(state.dbs.main)):
        if n:
            await asyncio.sleep(state.settings.polling_interval)
        try:
            await run_test(state, row, "", tester, latency_limit=threshold)
        except Exception:  # one channel's trouble (a DB hiccup, a bad row) must not end the run for the rest
            log.exception("test of channel #%s failed", row.get("id"))
    log.info("channel test-all finished")


async def scheduled_test_all(state: AppState, runner: TestAllRunner) -> None:
    """The leader's scheduled test of every channel (CHANNEL_TEST_FREQUENCY or the monitor options), logged
    as the root user's, as New API does; skipped while a manual run is going or before setup."""
    async with state.dbs.main.connect() as conn:
        root = await users_repo.first_root(conn)
    if root is None:
        return
    if not await runner.run_now(lambda: _test_all(state, root)):
        log.info("scheduled channel test skipped: a test-all run is already going")


@router.get("/test/{channel_id}", summary="Send a tiny request through one channel and time it")
async def test_one_channel(state: State, caller: AdminCaller, channel_id: ChannelId, model: str = "") -> JSONBody:
    row = await channels_repo.get(state.dbs.main, channel_id)
    if row is None:
        raise NotFoundError(NOT_FOUND)
    return (await run_test(state, row, model, caller.user)).answer()


@router.get("/test", summary="Test every channel in the background (one run at a time)")
async def test_all_channels(request: Request, state: State, caller: AdminCaller) -> JSONBody:
    if not channel_test_runner(request.app).start(state.relay, lambda: _test_all(state, caller.user)):
        return fail(ALREADY_RUNNING)
    return ok()


# balances


async def _get_json(state: AppState, url: str, headers: Mapping[str, str]) -> Any:
    timeout = _timeout(state)
    response = await state.relay.upstream.send(UpstreamCall("GET", url, dict(headers)), total=timeout, idle=timeout)
    try:
        raw = await response.read()
    except (TransportError, TimeoutError) as exc:
        raise UpstreamError(f"余额接口响应读取失败 (the balance answer was cut): {exc}") from exc
    finally:
        response.release()
    if response.status != 200:
        raise UpstreamError(f"余额查询失败 (the provider answered HTTP {response.status})", status=response.status)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError("余额接口返回的不是 JSON (the balance answer is not JSON)") from None


async def _refresh_balance(state: AppState, channel: ChannelInfo) -> float:
    now = state.clock.now()

    async def fetch(url: str, headers: Mapping[str, str]) -> Any:
        return await _get_json(state, url, headers)

    found = await balances.query_balance(
        channel,
        fetch,
        today=datetime.fromtimestamp(now, UTC).date(),
        cny_per_usd=state.options.current.get_float("USDExchangeRate"),
    )
    await channels_repo.set_balance(state.dbs.main, channel.id, found, now)
    return found


@router.get("/update_balance/{channel_id}", summary="Ask the provider for this channel's balance (US$)")
async def update_channel_balance(state: State, _: AdminCaller, channel_id: ChannelId) -> JSONBody:
    row = await channels_repo.get(state.dbs.main, channel_id)
    if row is None:
        raise NotFoundError(NOT_FOUND)
    try:
        found = await _refresh_balance(state, channel_info(row))
    except UpstreamError as error:  # the provider's failure is a business answer here, not a gateway error
        return fail(error.message)
    return JSONBody({"success": True, "message": "", "balance": found})


@router.get("/update_balance", summary="Refresh the balance of every enabled channel whose provider offers one")
async def update_all_balances(state: State, _: AdminCaller) -> JSONBody:
    await refresh_all_balances(state)
    return ok()


async def refresh_all_balances(state: AppState) -> None:
    """Also the leader's scheduled job (CHANNEL_UPDATE_FREQUENCY)."""
    rows = await channels_repo.all_channels(state.dbs.main)
    asked = 0
    for row in rows:
        channel = channel_info(row)
        if channel.status != ChannelStatus.ENABLED or not balances.supports_balance(channel):
            continue
        if asked:
            await asyncio.sleep(state.settings.polling_interval)
        asked += 1
        try:
            found = await _refresh_balance(state, channel)
        except ClinxError as error:
            log.info("balance of channel #%d not refreshed: %s", channel.id, error.message)
            continue
        # New API disables a channel whose provider balance ran out (auto_ban channels only).
        exhausted = found <= 0 and channel.auto_ban
        if exhausted and await channels_repo.auto_disable(state.dbs.main, channel.id, LOW_BALANCE, state.clock.now()):
            await channels_changed(state.index, state.dbs.main, state.relay.notifier)
