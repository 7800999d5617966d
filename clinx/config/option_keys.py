"""Every option key New API stores, with its type, default and validation (see newapi-contract §9)."""

from __future__ import annotations

from typing import Any

from clinx.config.options import OptionRegistry, OptionSpec
from clinx.core.errors import ValidationError


def _non_negative(value: Any) -> None:
    if value < 0:
        raise ValidationError("value must not be negative")


def _ratio_map(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise ValidationError("value must be a JSON object of name → number")
    for name, ratio in value.items():
        if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or ratio < 0:
            raise ValidationError(f"ratio for {name!r} must be a number ≥ 0")


def _s(key: str, default: str = "", **kw: Any) -> OptionSpec:
    return OptionSpec(key, "str", default, **kw)


def _b(key: str, default: bool) -> OptionSpec:
    return OptionSpec(key, "bool", "true" if default else "false")


def _i(key: str, default: int, **kw: Any) -> OptionSpec:
    return OptionSpec(key, "int", str(default), validate=_non_negative, **kw)


def _j(key: str, default: str, **kw: Any) -> OptionSpec:
    return OptionSpec(key, "json", default, **kw)


SPECS: list[OptionSpec] = [
    _s("SystemName", "New API"),
    _b("SelfUseModeEnabled", False),
    _b("DemoSiteEnabled", False),
    _i("RetryTimes", 0),
    _i("QuotaPerUnit", 500000),
    _i("PreConsumedQuota", 500),
    _i("QuotaForNewUser", 0),
    _b("DisplayInCurrencyEnabled", True),
    _b("DisplayTokenStatEnabled", True),
    _b("LogConsumeEnabled", True),
    _b("DataExportEnabled", True),
    _b("PasswordLoginEnabled", True),
    _b("PasswordRegisterEnabled", True),
    _b("RegisterEnabled", True),
    _j("GroupRatio", '{"default":1,"vip":1,"svip":1}', validate=_ratio_map),
    _j("UserUsableGroups", '{"default":"默认分组","vip":"vip分组"}'),
    _s("GitHubClientSecret", secret=True),
    _s("SMTPToken", secret=True),
]


def build_registry() -> OptionRegistry:
    return OptionRegistry(SPECS)
