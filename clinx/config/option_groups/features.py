"""Feature switches, usage logging, Midjourney behaviour, check-in and key limits (newapi-contract §9
"Features / logs")."""

from __future__ import annotations

from clinx.config.option_groups import checks
from clinx.config.option_groups.declare import flag, grouped, text, whole

SPECS = grouped(
    "Features / logs",
    [
        flag("DrawingEnabled", True, "Enable drawing (Midjourney) routes and console pages."),
        flag("TaskEnabled", True, "Enable async task (Suno, video) routes and console pages."),
        flag("LogConsumeEnabled", True, "Write a usage log row for each billed request."),
        flag("DataExportEnabled", True, "Aggregate usage into quota_data for the dashboard."),
        whole("DataExportInterval", 5, "Minutes between quota_data flushes.", validate=checks.at_least(1)),
        text(
            "DataExportDefaultTime",
            "hour",
            "Default dashboard granularity: hour, day or week.",
            validate=checks.one_of("hour", "day", "week"),
        ),
        flag("MjNotifyEnabled", False, "Pass the client's notifyHook to the Midjourney proxy."),
        flag("MjAccountFilterEnabled", False, "Pass the client's accountFilter to the Midjourney proxy."),
        flag("MjModeClearEnabled", False, "Remove --fast / --relax / --turbo from Midjourney prompts."),
        flag("MjForwardUrlEnabled", True, "Serve Midjourney images through /mj/image/:id."),
        flag("MjActionCheckSuccessEnabled", True, "Allow Midjourney follow-up actions only on successful tasks."),
        flag("checkin_setting.enabled", False, "Enable the daily check-in reward."),
        whole("checkin_setting.min_quota", 1000, "Smallest check-in reward in quota units."),
        whole("checkin_setting.max_quota", 10000, "Largest check-in reward in quota units."),
        whole("token_setting.max_user_tokens", 1000, "Most API keys one user may hold."),
    ],
)
