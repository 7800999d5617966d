"""Admission: who is calling, in which group, at what price, through which channels — and the quota
reservation that protects the balance. Everything here runs before any byte goes upstream."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from clinx.auth import api_keys
from clinx.billing.images import image_call_multiplier
from clinx.billing.price_table import group_ratio, normalise_model, resolve_price
from clinx.billing.pricing import reservation_for
from clinx.core.enums import ChannelStatus, Role
from clinx.core.errors import ChannelError, ForbiddenError, QuotaError, ValidationError
from clinx.core.types import ChannelInfo, Price, TokenInfo, UserInfo
from clinx.relay import estimate
from clinx.relay.context import RelayContext, RelayRequest
from clinx.relay.endpoints import Endpoint
from clinx.store.repos import wallet

if TYPE_CHECKING:
    from clinx.relay.pipeline import Relay

Tiers = tuple[tuple[ChannelInfo, ...], ...]
UNSET_MODEL_RATIO = 37.5  # New API's sentinel ratio for unpriced models in self-use mode


async def _caller(relay: Relay, request: RelayRequest) -> tuple[TokenInfo | None, UserInfo, int | None]:
    ttl = float(relay.settings.sync_frequency)
    lookups = relay.metrics.cache_lookups
    if request.playground_user_id:
        loaded_user = await api_keys.load_user(
            relay.main, relay.cache, request.playground_user_id, ttl, lookups=lookups
        )
        return None, api_keys.check_user(loaded_user), None
    if not request.raw_key:
        raise ForbiddenError("未提供令牌 (no API key was sent)", status=401)
    key, pin = api_keys.split_key(request.raw_key)
    loaded = await api_keys.load_token(relay.main, relay.cache, key, ttl, lookups=lookups)
    held = relay.ledger.held("token", loaded.id) if loaded else 0
    token = api_keys.check_token(loaded, relay.clock.now(), held=held)
    user = api_keys.check_user(await api_keys.load_user(relay.main, relay.cache, token.user_id, ttl, lookups=lookups))
    api_keys.check_ip(token, request.client_ip)
    if pin is not None and user.role < Role.ADMIN:
        raise ForbiddenError("普通用户不支持指定渠道 (only admins may pin a channel)")
    return token, user, pin


def _group(relay: Relay, token: TokenInfo | None, user: UserInfo, request: RelayRequest) -> str:
    o = relay.options.current
    group = request.playground_group or (token.group if token else "") or user.group
    if group == user.group and not (token and token.group):
        return group
    usable = o.get_json("UserUsableGroups") or {}
    if group != user.group and group not in usable:
        raise ForbiddenError(f"令牌分组 {group} 已被禁用 (group {group} is not available to you)")
    ratios = o.get_json("GroupRatio") or {}
    if group not in ratios:
        raise ForbiddenError(f"分组 {group} 已被弃用 (group {group} no longer exists)")
    return group


def _price(relay: Relay, model: str, group: str, user: UserInfo) -> Price:
    o = relay.options.current
    price = resolve_price(o, model, group)
    if price is not None:
        return price
    if o.get_bool("SelfUseModeEnabled") or '"accept_unset_model_ratio_model":true' in user.setting.replace(" ", ""):
        return Price(model_ratio=UNSET_MODEL_RATIO, group_ratio=group_ratio(o, group))
    raise ValidationError(
        f"模型 {model} 倍率或价格未配置，请联系管理员设置或开始自用模式 (model {model} has no price; "
        "ask an administrator to set its ratio or price)",
        code="model_price_error",
    )


def _tiers(relay: Relay, group: str, model: str, pin: int | None) -> Tiers:
    snapshot = relay.index.current
    if pin is not None:
        channel = snapshot.channels.get(pin)
        if channel is None:
            raise ValidationError("无效的渠道 Id (no such channel)")
        if channel.status != ChannelStatus.ENABLED:
            raise ForbiddenError("该渠道已被禁用 (this channel is disabled)")
        return ((channel,),)
    tiers = snapshot.tiers(group, model) or snapshot.tiers(group, normalise_model(model))
    if not tiers:
        raise ChannelError(
            f"当前分组 {group} 下对于模型 {model} 无可用渠道 (no channel serves model {model} in group {group})",
            code="model_not_found",
        )
    return tiers


async def admit(relay: Relay, request: RelayRequest) -> tuple[RelayContext, Tiers]:
    token, user, pin = await _caller(relay, request)
    if not request.model:
        raise ValidationError("未指定模型名称 (the request has no model)", code="model_required")
    if token is not None:
        api_keys.check_model(token, request.model, normalise_model(request.model))
    group = _group(relay, token, user, request)
    price = _price(relay, request.model, group, user)
    if request.endpoint == Endpoint.IMAGES and price.model_price is not None:
        price = replace(price, model_price=price.model_price * image_call_multiplier(request.model, request.body))
    tiers = _tiers(relay, group, request.model, pin)
    account = wallet.Account(
        user_id=user.id, token_id=token.id if token else 0, charge_token=token is not None and not token.unlimited_quota
    )
    ctx = RelayContext(request=request, token=token, user=user, group=group, price=price, account=account)
    ctx.pinned = pin is not None
    ctx.prompt_estimate = estimate.quick_prompt_tokens(request.endpoint, request.model, request.body)
    o = relay.options.current
    amount = reservation_for(
        ctx.prompt_estimate, estimate.max_output_tokens(request.body), price, o.get_int("PreConsumedQuota")
    )
    try:
        await relay.ledger.reserve(account, amount)
    except wallet.Shortfall as short:
        if short.on_token:
            raise QuotaError(
                "令牌额度不足 (this API key's remaining quota is below what the request may cost)",
                code="pre_consume_token_quota_failed",
            ) from None
        raise QuotaError(
            "用户额度不足 (your balance is below what the request may cost)", code="insufficient_user_quota"
        ) from None
    ctx.reserved = amount
    return ctx, tiers
