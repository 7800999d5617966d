"""Quota, pricing tables and payment (newapi-contract §9 "Quota", "Pricing", "Payment"; ratios in §6.1)."""

from __future__ import annotations

from clinx.config.default_prices import as_json, default_prices
from clinx.config.option_groups import checks
from clinx.config.option_groups.declare import flag, grouped, number, structured, text, whole
from clinx.config.options import OptionSpec

DEFAULT_GROUP_RATIO = {"default": 1, "vip": 1, "svip": 1}
DEFAULT_PAY_METHODS = [
    {"name": "支付宝", "icon": "SiAlipay", "type": "alipay"},
    {"name": "微信", "icon": "SiWechat", "type": "wxpay"},
    {"name": "自定义1", "icon": "LuCreditCard", "type": "custom1", "min_topup": "50"},
]

# The keys POST /api/option/rest_model_ratio puts back to New API's tables.
RESETTABLE_RATIOS = ("ModelRatio", "CompletionRatio", "ModelPrice", "CacheRatio")

QUOTA = grouped(
    "Quota",
    [
        number("QuotaPerUnit", 500000, "Quota units per US$1 (1 quota = $0.000002).", validate=checks.positive),
        whole("QuotaForNewUser", 0, "Quota given to each newly registered user."),
        whole("QuotaForInviter", 0, "Quota credited to the inviter (aff_quota) for each invitee."),
        whole("QuotaForInvitee", 0, "Extra quota for a user registering with an invitation code."),
        whole("QuotaRemindThreshold", 1000, "Warn a user by notification when their quota falls below this."),
        whole("PreConsumedQuota", 500, "Quota reserved before a request whose cost is not known yet."),
        flag("DisplayInCurrencyEnabled", True, "Show quota as money instead of raw units."),
        flag("DisplayTokenStatEnabled", True, "Show token statistics in the console."),
        number("USDExchangeRate", 7.3, "CNY per US$1 for displaying prices in CNY.", validate=checks.positive),
        flag(
            "quota_setting.enable_free_model_pre_consume",
            True,
            "Reserve PreConsumedQuota even for free (ratio 0 / price 0) models.",
        ),
    ],
)


def _pricing() -> list[OptionSpec]:
    prices = default_prices()
    table = "JSON object model → number; replaced whole on each write."
    return grouped(
        "Pricing",
        [
            structured(
                "ModelRatio",
                as_json(prices.model_ratio),
                f"Input price ratio per model (1 = $2 per 1M tokens). {table}",
                validate=checks.ratio_map,
            ),
            structured(
                "CompletionRatio",
                as_json(prices.completion_ratio),
                f"Output price / input price per model. {table}",
                validate=checks.ratio_map,
            ),
            structured(
                "CacheRatio",
                as_json(prices.cache_ratio),
                f"Cached-prompt price / input price per model. {table}",
                validate=checks.ratio_map,
            ),
            structured(
                "CreateCacheRatio",
                as_json(prices.create_cache_ratio),
                f"Cache-write price / input price per model. {table}",
                validate=checks.ratio_map,
            ),
            structured(
                "ModelPrice",
                as_json(prices.model_price),
                f"Fixed US$ per call; wins over ratios. {table}",
                validate=checks.ratio_map,
            ),
            structured(
                "ImageRatio",
                as_json(prices.image_ratio),
                f"Image input token ratio per model. {table}",
                validate=checks.ratio_map,
            ),
            structured(
                "AudioRatio",
                as_json(prices.audio_ratio),
                f"Audio input token ratio per model. {table}",
                validate=checks.ratio_map,
            ),
            structured(
                "AudioCompletionRatio",
                as_json(prices.audio_completion_ratio),
                f"Audio output token ratio per model. {table}",
                validate=checks.ratio_map,
            ),
            structured(
                "GroupRatio",
                DEFAULT_GROUP_RATIO,
                "Price multiplier per using group (≥ 0); a missing group counts as 1.",
                validate=checks.ratio_map,
            ),
            structured(
                "UserUsableGroups",
                {"default": "默认分组", "vip": "vip分组"},
                "Groups users may pick for their keys: group → description (the user's own group always works).",
                validate=checks.string_map,
            ),
            structured(
                "GroupGroupRatio",
                {"vip": {"edit_this": 0.9}},
                "Special ratio for (user group → using group), overriding GroupRatio.",
                validate=checks.nested_ratio_map,
            ),
            structured(
                "group_ratio_setting.group_special_usable_group",
                {"vip": {"append_1": "vip_special_group_1", "-:remove_1": "vip_removed_group_1"}},
                'Per user group: extra usable groups ("+:" or plain adds, "-:" removes).',
                validate=checks.nested_string_map,
            ),
            structured(
                "AutoGroups", ["default"], 'Groups tried in order by the "auto" group.', validate=checks.string_list
            ),
            flag("DefaultUseAutoGroup", False, 'New keys use the "auto" group by default.'),
            whole("MaxTokenAutoGroups", 5, "Most auto groups a single key may list."),
            flag("ExposeRatioEnabled", False, "Expose the ratio tables publicly (GET /api/ratio_config)."),
        ],
    )


PRICING = _pricing()

PAYMENT = grouped(
    "Payment",
    [
        text(
            "PayAddress", "", "EPay (易支付) gateway base URL; online top-up is on when it, EpayId and EpayKey are set."
        ),
        text("CustomCallbackAddress", "", "Base URL EPay calls back; empty = ServerAddress."),
        text("EpayId", "", "EPay merchant id."),
        text("EpayKey", "", "EPay merchant key (write-only)."),
        number("Price", 7.3, "Top-up price: CNY charged per US$1 of quota."),
        whole("MinTopUp", 1, "Smallest online top-up amount."),
        structured(
            "TopupGroupRatio",
            DEFAULT_GROUP_RATIO,
            "Top-up price multiplier per user group.",
            validate=checks.ratio_map,
        ),
        structured(
            "PayMethods",
            DEFAULT_PAY_METHODS,
            "Payment methods offered at top-up: list of {name, type, icon/color, min_topup}.",
            validate=checks.string_object_list,
        ),
        structured(
            "payment_setting.amount_options",
            [10, 20, 50, 100, 200, 500],
            "Preset top-up amounts.",
            validate=checks.positive_int_list,
        ),
        structured(
            "payment_setting.amount_discount",
            {},
            'Top-up discount: {"amount": discount} or [{"min_amount": n, "discount": d}].',
            validate=checks.amount_discount,
        ),
        text("StripeApiSecret", "", "Stripe API secret key (write-only)."),
        text("StripeWebhookSecret", "", "Stripe webhook signing secret (write-only)."),
        text("StripePriceId", "", "Stripe price id used for top-ups."),
        number("StripeUnitPrice", 8.0, "Stripe: currency charged per US$1 of quota."),
        whole("StripeMinTopUp", 1, "Stripe: smallest top-up amount."),
        flag("StripePromotionCodesEnabled", False, "Stripe: allow promotion codes at checkout."),
        text("CreemApiKey", "", "Creem API key (write-only)."),
        structured(
            "CreemProducts", [], "Creem products offered at top-up (JSON list of objects).", validate=checks.object_list
        ),
        flag("CreemTestMode", False, "Use Creem's test mode."),
        text("CreemWebhookSecret", "", "Creem webhook signing secret (write-only)."),
    ],
)

SPECS = QUOTA + PRICING + PAYMENT
