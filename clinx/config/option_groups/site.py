"""Site texts, console behaviour and the legacy permission keys (newapi-contract §9 "Site", "Permissions")."""

from __future__ import annotations

from clinx.config.option_groups import checks
from clinx.config.option_groups.declare import flag, grouped, number, structured, text, whole

# The five chat presets of newapi-contract §13, in New API's order: name → URL template.
DEFAULT_CHATS = [
    {"ChatGPT Next Web 官方示例": 'https://app.nextchat.dev/#/?settings={"key":"{key}","url":"{address}"}'},
    {
        "Lobe Chat 官方示例": "https://chat-preview.lobehub.com/?settings="
        '{"keyVaults":{"openai":{"apiKey":"{key}","baseURL":"{address}/v1"}}}'
    },
    {
        "AI as Workspace": "https://aiaw.app/set-provider?provider="
        '{"type":"openai","settings":{"apiKey":"{key}","baseURL":"{address}/v1","compatibility":"strict"}}'
    },
    {"AMA 问天": "ama://set-api-key?server={address}&key={key}"},
    {"OpenCat": "opencat://team/join?domain={address}&token={key}"},
]

SITE = grouped(
    "Site",
    [
        text("SystemName", "New API", "Site name shown in the console, page titles and emails."),
        text("Logo", "", "Logo image URL."),
        text("Footer", "", "Footer HTML; empty shows the default footer."),
        text("Notice", "", "Notice shown in the console (Markdown); served by GET /api/notice."),
        text("About", "", "About page: Markdown/HTML, or an https:// URL shown in an iframe."),
        text("HomePageContent", "", "Home page: Markdown/HTML, or an https:// URL shown in an iframe."),
        text(
            "ServerAddress",
            "",
            "Public base URL of this server (payment callbacks, links); empty = http://localhost:PORT.",
        ),
        text("TopUpLink", "", "External shop link for buying redemption codes."),
        flag("DefaultCollapseSidebar", False, "Start the console with the sidebar collapsed."),
        flag("DemoSiteEnabled", False, "Demo site mode (set by the setup wizard)."),
        flag("SelfUseModeEnabled", False, "Self-use mode: models without a ratio or price are allowed."),
        text("general_setting.docs_link", "https://docs.newapi.pro", "Documentation link shown in the console."),
        text(
            "general_setting.quota_display_type",
            "USD",
            "How quota is shown: USD, CNY, TOKENS or CUSTOM.",
            validate=checks.one_of("USD", "CNY", "TOKENS", "CUSTOM"),
        ),
        text("general_setting.custom_currency_symbol", "¤", "Currency symbol for the CUSTOM display type."),
        number(
            "general_setting.custom_currency_exchange_rate",
            1.0,
            "1 USD = X custom currency, for the CUSTOM display type.",
            validate=checks.positive,
        ),
        flag("general_setting.ping_interval_enabled", False, "Send keep-alive pings on idle streams."),
        whole(
            "general_setting.ping_interval_seconds",
            60,
            "Seconds between keep-alive pings (1–1800).",
            validate=checks.between(1, 1800),
        ),
        structured(
            "Chats",
            DEFAULT_CHATS,
            'Chat presets: JSON list of {"name": "url template"} with {key} and {address} placeholders.',
            validate=checks.chats,
        ),
    ],
)

PERMISSIONS = grouped(
    "Permissions",
    [
        whole("FileUploadPermission", 0, "Legacy: minimum role for file upload (kept for compatibility)."),
        whole("FileDownloadPermission", 0, "Legacy: minimum role for file download (kept for compatibility)."),
        whole("ImageUploadPermission", 0, "Legacy: minimum role for image upload (kept for compatibility)."),
        whole("ImageDownloadPermission", 0, "Legacy: minimum role for image download (kept for compatibility)."),
    ],
)

SPECS = SITE + PERMISSIONS
