"""Pricing and catalogue routes: the model square (/api/pricing), model lists, and the groups a user may use."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from clinx.api.deps import AdminCaller, Caller, MaybeCaller, State, UserCaller
from clinx.api.envelope import JSONBody, ok
from clinx.config.default_prices import default_prices
from clinx.config.options import OptionsSnapshot
from clinx.store.repos import model_catalog

router = APIRouter(prefix="/api", tags=["pricing"])

UNSET_MODEL_RATIO = 37.5  # New API's sentinel ratio for a model without a configured ratio
OWN_GROUP_DESC = "用户分组"  # New API's description of a user's own group missing from UserUsableGroups


def _json_map(options: OptionsSnapshot, key: str) -> dict[str, Any] | None:
    """A JSON-object option; ``None`` when unset, undeclared-and-unparsable or not an object."""
    value = options.get_json(key)
    if isinstance(value, str):  # keys not (yet) declared in the registry come back as raw text
        try:
            value = json.loads(value) if value.strip() else None
        except ValueError:
            value = None
    return value if isinstance(value, dict) else None


def _number_map(options: OptionsSnapshot, key: str, fallback: Mapping[str, float]) -> dict[str, float]:
    table = _json_map(options, key)
    if table is None:
        return dict(fallback)
    return {str(k): float(v) for k, v in table.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


@dataclass(frozen=True)
class PriceTables:
    model_ratio: dict[str, float]
    model_price: dict[str, float]
    completion_ratio: dict[str, float]

    @classmethod
    def from_options(cls, options: OptionsSnapshot) -> PriceTables:
        defaults = default_prices()
        return cls(
            model_ratio=_number_map(options, "ModelRatio", defaults.model_ratio),
            model_price=_number_map(options, "ModelPrice", defaults.model_price),
            completion_ratio=_number_map(options, "CompletionRatio", defaults.completion_ratio),
        )

    def pricing(self, model: str, groups: list[str]) -> dict[str, Any]:
        name = _pricing_name(model)
        item: dict[str, Any] = {"model_name": model, "quota_type": 0, "model_ratio": 0.0, "model_price": 0.0,
                                "completion_ratio": 0.0, "enable_groups": groups, "owner_by": ""}  # fmt: skip
        if name in self.model_price:
            item.update(quota_type=1, model_price=self.model_price[name])
        else:
            item["model_ratio"] = self.model_ratio.get(name, UNSET_MODEL_RATIO)
            item["completion_ratio"] = self.completion_ratio.get(name, 1.0)
        return item


def _pricing_name(model: str) -> str:
    """GPTs share one price entry, as in New API."""
    for prefix in ("gpt-4-gizmo", "gpt-4o-gizmo"):
        if model.startswith(prefix):
            return prefix + "-*"
    return model


def group_ratios(options: OptionsSnapshot) -> dict[str, float]:
    return _number_map(options, "GroupRatio", {})


def usable_groups(options: OptionsSnapshot, user_group: str) -> dict[str, str]:
    """UserUsableGroups, plus the user's own group (always usable)."""
    table = _json_map(options, "UserUsableGroups") or {}
    groups = {str(k): str(v) for k, v in table.items()}
    if user_group and user_group not in groups:
        groups[user_group] = OWN_GROUP_DESC
    return groups


def _user_group(caller: Caller | None) -> str:
    return str(caller.user.get("group") or "default") if caller is not None else ""


@router.get("/pricing", summary="The model square: every served model with its price (login optional)")
async def get_pricing(state: State, caller: MaybeCaller) -> JSONBody:
    options = state.options.current
    usable = usable_groups(options, _user_group(caller))
    tables = PriceTables.from_options(options)
    data = []
    for model, groups in (await model_catalog.enabled_model_groups(state.dbs.main)).items():
        allowed = [g for g in groups if g in usable]
        if allowed:
            data.append(tables.pricing(model, allowed))
    ratios = {g: r for g, r in group_ratios(options).items() if g in usable}
    return JSONBody({"success": True, "message": "", "data": data, "group_ratio": ratios, "usable_group": usable})


@router.get("/models", summary="Models of the existing channels, by channel type")
async def get_models(state: State, _caller: UserCaller) -> JSONBody:
    by_type = await model_catalog.models_by_channel_type(state.dbs.main)
    return ok({str(t): models for t, models in by_type.items()})


@router.get("/group/", summary="Names of all groups (keys of GroupRatio)")
async def get_groups(state: State, _caller: AdminCaller) -> JSONBody:
    return ok(sorted(group_ratios(state.options.current)))


def _groups_of(state: State, caller: Caller) -> dict[str, dict[str, Any]]:
    options = state.options.current
    ratios = group_ratios(options)
    usable = usable_groups(options, _user_group(caller))
    return {g: {"ratio": ratios.get(g, 1.0), "desc": desc} for g, desc in sorted(usable.items())}


@router.get("/user/groups", summary="Groups the caller may use, with ratio and description")
async def get_user_groups(state: State, caller: UserCaller) -> JSONBody:
    return ok(_groups_of(state, caller))


@router.get("/user/self/groups", summary="Groups the caller may use, with ratio and description")
async def get_own_groups(state: State, caller: UserCaller) -> JSONBody:
    return ok(_groups_of(state, caller))


@router.get("/user/models", summary="Models enabled in the caller's group")
async def get_user_models(state: State, caller: UserCaller) -> JSONBody:
    return ok(await model_catalog.enabled_models_in_group(state.dbs.main, _user_group(caller)))
