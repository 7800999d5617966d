"""Provider balance queries: for each channel type that offers one, the URL its balance is read from and how the
answer turns into US$. The HTTP GET is injected (the management route sends it through the relay's one upstream
sender), so this module does no I/O of its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from clinx.core.enums import ChannelType as T
from clinx.core.errors import UpstreamError, ValidationError
from clinx.core.types import ChannelInfo

# GET ``url`` with ``headers`` and answer the parsed JSON; raise UpstreamError for a non-200 answer.
Fetch = Callable[[str, Mapping[str, str]], Awaitable[Any]]

NOT_IMPLEMENTED = "尚未实现 (this channel type offers no balance query)"
MULTI_KEY = "多密钥渠道不支持余额查询 (balance queries need a channel with a single key)"


@dataclass(frozen=True)
class BalanceQuery:
    channel: ChannelInfo
    fetch: Fetch
    today: date
    cny_per_usd: float

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.channel.key.strip()}"}

    def base(self, default: str) -> str:
        return (self.channel.base_url or default).rstrip("/")

    def in_cny(self, base: str) -> bool:
        """Chinese sites bill in CNY, their international twins (.com / .ai) in US$."""
        return (urlsplit(base).hostname or "").endswith(".cn")

    def usd(self, amount: float, *, cny: bool) -> float:
        return amount / self.cny_per_usd if cny and self.cny_per_usd > 0 else amount


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UpstreamError(f"余额接口返回格式错误 (the balance answer has no {what} object)", code="bad_response_body")
    return value


def _number(container: Any, field: str) -> float:
    value = _object(container, field).get(field)
    try:
        return float(value if isinstance(value, int | float | str) else "")
    except ValueError:
        raise UpstreamError(
            f"余额接口返回格式错误 (the balance answer has no numeric {field})", code="bad_response_body"
        ) from None


async def _openai_billing(q: BalanceQuery) -> float:
    """OpenAI's legacy billing API, still served by most resellers: hard limit minus this period's usage."""
    base = q.base("https://api.openai.com")
    subscription = _object(await q.fetch(f"{base}/v1/dashboard/billing/subscription", q.bearer), "subscription")
    # Without a payment method the grant covers a longer window (New API looks back 100 days).
    start = q.today.replace(day=1) if subscription.get("has_payment_method") else q.today - timedelta(days=100)
    usage_url = f"{base}/v1/dashboard/billing/usage?start_date={start:%Y-%m-%d}&end_date={q.today:%Y-%m-%d}"
    usage = await q.fetch(usage_url, q.bearer)
    return _number(subscription, "hard_limit_usd") - _number(usage, "total_usage") / 100  # usage is in cents


async def _credit_grants(q: BalanceQuery, default_base: str, field: str) -> float:
    return _number(await q.fetch(f"{q.base(default_base)}/dashboard/billing/credit_grants", q.bearer), field)


async def _api2gpt(q: BalanceQuery) -> float:
    return await _credit_grants(q, "https://api.api2gpt.com", "total_remaining")


async def _aigc2d(q: BalanceQuery) -> float:
    return await _credit_grants(q, "https://api.aigc2d.com", "total_available")


async def _aiproxy(q: BalanceQuery) -> float:
    # Billing lives on the console host, not on the API host the channel points at.
    answer = _object(
        await q.fetch("https://aiproxy.io/api/report/getUserOverview", {"Api-Key": q.channel.key.strip()}), "answer"
    )
    if not answer.get("success"):
        raise UpstreamError(f"code: {answer.get('error_code')}, message: {answer.get('message')}")
    return _number(answer.get("data"), "totalPoints")


async def _siliconflow(q: BalanceQuery) -> float:
    base = q.base("https://api.siliconflow.cn")
    answer = _object(await q.fetch(f"{base}/v1/user/info", q.bearer), "answer")
    if answer.get("code") not in (None, 20000):
        raise UpstreamError(f"code: {answer.get('code')}, message: {answer.get('message')}")
    return q.usd(_number(answer.get("data"), "totalBalance"), cny=q.in_cny(base))


async def _deepseek(q: BalanceQuery) -> float:
    answer = _object(await q.fetch(f"{q.base('https://api.deepseek.com')}/user/balance", q.bearer), "answer")
    infos = [i for i in answer.get("balance_infos") or [] if isinstance(i, dict)]
    by_currency = {str(i.get("currency") or "").upper(): i for i in infos}
    if "USD" in by_currency:
        return _number(by_currency["USD"], "total_balance")
    if "CNY" in by_currency:
        return q.usd(_number(by_currency["CNY"], "total_balance"), cny=True)
    raise UpstreamError("DeepSeek 余额接口没有返回 USD 或 CNY 余额 (no USD or CNY balance in the answer)")


async def _openrouter(q: BalanceQuery) -> float:
    base = q.base("https://openrouter.ai/api")
    path = "/v1/credits" if base.endswith("/api") else "/api/v1/credits"
    data = _object(await q.fetch(base + path, q.bearer), "answer").get("data")
    return _number(data, "total_credits") - _number(data, "total_usage")


async def _moonshot(q: BalanceQuery) -> float:
    base = q.base("https://api.moonshot.cn")
    answer = _object(await q.fetch(f"{base}/v1/users/me/balance", q.bearer), "answer")
    if not answer.get("status") or answer.get("code") not in (0, None):
        raise UpstreamError(f"code: {answer.get('code')}, scode: {answer.get('scode')}")
    return q.usd(_number(answer.get("data"), "available_balance"), cny=q.in_cny(base))


READERS: dict[int, Callable[[BalanceQuery], Awaitable[float]]] = {
    T.OPENAI: _openai_billing,
    T.CUSTOM: _openai_billing,
    T.AIPROXY: _aiproxy,
    T.API2GPT: _api2gpt,
    T.AIGC2D: _aigc2d,
    T.SILICONFLOW: _siliconflow,
    T.DEEPSEEK: _deepseek,
    T.OPENROUTER: _openrouter,
    T.MOONSHOT: _moonshot,
}


def supports_balance(channel: ChannelInfo) -> bool:
    return channel.type in READERS and len(channel.keys()) == 1


async def query_balance(channel: ChannelInfo, fetch: Fetch, *, today: date, cny_per_usd: float) -> float:
    """The channel's provider balance in US$. ValidationError when the type or the channel cannot be asked,
    UpstreamError when the provider does not answer usably."""
    reader = READERS.get(channel.type)
    if reader is None:
        raise ValidationError(NOT_IMPLEMENTED)
    if len(channel.keys()) != 1:
        raise ValidationError(MULTI_KEY)
    if channel.type == T.CUSTOM and not channel.base_url:
        raise ValidationError("自定义渠道没有 base_url (a Custom channel needs its base URL for balance queries)")
    return await reader(BalanceQuery(channel, fetch, today, cny_per_usd))
