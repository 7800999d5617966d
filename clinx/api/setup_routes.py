"""Public routes: /api/status, the first-run setup wizard, and the site texts."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from clinx.api.deps import Body, State
from clinx.api.envelope import JSONBody, fail, ok
from clinx.auth.passwords import check_password_policy
from clinx.auth.root_account import create_root
from clinx.cache.notify import OPTIONS
from clinx.core.errors import ValidationError
from clinx.store.repos import setups as setups_repo
from clinx.store.rows import upsert
from clinx.store.tables import options

router = APIRouter(prefix="/api", tags=["public"])
_setup_lock = asyncio.Lock()

MAX_USERNAME = 20


@router.get("/status", summary="Site status and public settings")
async def get_status(state: State) -> JSONBody:
    o = state.options.current
    done = await setups_repo.is_done(state.dbs.main)
    data: dict[str, Any] = {
        "version": state.version,
        "start_time": state.start_time,
        "system_name": o.get_str("SystemName"),
        "logo": o.get_str("Logo"),
        "footer_html": o.get_str("Footer"),
        "server_address": o.get_str("ServerAddress") or f"http://localhost:{state.settings.port}",
        "quota_per_unit": o.get_int("QuotaPerUnit"),
        "display_in_currency": o.get_bool("DisplayInCurrencyEnabled"),
        "enable_batch_update": state.settings.batch_update_enabled,
        "enable_drawing": o.get_bool("DrawingEnabled"),
        "enable_task": o.get_bool("TaskEnabled"),
        "enable_data_export": o.get_bool("DataExportEnabled"),
        "data_export_default_time": o.get_str("DataExportDefaultTime"),
        "default_collapse_sidebar": o.get_bool("DefaultCollapseSidebar"),
        "email_verification": o.get_bool("EmailVerificationEnabled"),
        "github_oauth": o.get_bool("GitHubOAuthEnabled"),
        "github_client_id": o.get_str("GitHubClientId"),
        "linuxdo_oauth": o.get_bool("LinuxDOOAuthEnabled"),
        "linuxdo_client_id": o.get_str("LinuxDOClientId"),
        "telegram_oauth": o.get_bool("TelegramOAuthEnabled"),
        "telegram_bot_name": o.get_str("TelegramBotName"),
        "wechat_qrcode": o.get_str("WeChatAccountQRCodeImageURL"),
        "wechat_login": o.get_bool("WeChatAuthEnabled"),
        "turnstile_check": o.get_bool("TurnstileCheckEnabled"),
        "turnstile_site_key": o.get_str("TurnstileSiteKey"),
        "oidc_enabled": o.get_bool("oidc.enabled"),
        "oidc_client_id": o.get_str("oidc.client_id"),
        "oidc_authorization_endpoint": o.get_str("oidc.authorization_endpoint"),
        "price": o.get_float("Price"),
        "min_topup": o.get_int("MinTopUp"),
        "top_up_link": o.get_str("TopUpLink"),
        "docs_link": o.get_str("general_setting.docs_link"),
        "enable_online_topup": bool(o.get_str("PayAddress") and o.get_str("EpayId") and o.get_str("EpayKey")),
        "mj_notify_enabled": o.get_bool("MjNotifyEnabled"),
        "chats": o.get_json("Chats") or [],
        "demo_site_enabled": o.get_bool("DemoSiteEnabled"),
        "self_use_mode_enabled": o.get_bool("SelfUseModeEnabled"),
        "register_enabled": o.get_bool("RegisterEnabled"),
        "password_login_enabled": o.get_bool("PasswordLoginEnabled"),
        "password_register_enabled": o.get_bool("PasswordRegisterEnabled"),
        "setup": done,
    }
    return ok(data)


@router.get("/notice", summary="Site notice")
async def get_notice(state: State) -> JSONBody:
    return ok(state.options.current.get_str("Notice"))


@router.get("/about", summary="About text")
async def get_about(state: State) -> JSONBody:
    return ok(state.options.current.get_str("About"))


@router.get("/home_page_content", summary="Home page content")
async def get_home_page_content(state: State) -> JSONBody:
    return ok(state.options.current.get_str("HomePageContent"))


@router.get("/setup", summary="Whether first-run setup is done")
async def get_setup(state: State) -> JSONBody:
    done = await setups_repo.is_done(state.dbs.main)
    return ok({"status": done, "root_init": False, "database_type": "" if done else state.dbs.kind})


def _check_setup_body(body: dict[str, Any]) -> tuple[str, str]:
    username = str(body.get("username") or "").strip()
    password = str(body.get("password") or "")
    confirm = body.get("confirmPassword", body.get("confirm_password"))
    if not username:
        raise ValidationError("用户名不能为空 (username is required)")
    if len(username) > MAX_USERNAME:
        raise ValidationError(f"用户名长度不能超过 {MAX_USERNAME} 个字符 (username too long)")
    check_password_policy(password)
    if confirm is not None and confirm != password:
        raise ValidationError("两次输入的密码不一致 (passwords do not match)")
    return username, password


@router.post("/setup", summary="Create the root account (first run only)")
async def post_setup(state: State, body: Body) -> JSONBody:
    username, password = _check_setup_body(body)
    async with _setup_lock:
        if await setups_repo.is_done(state.dbs.main):
            return fail("系统已经初始化完成", 400)
        now = state.clock.now()
        modes = {
            "SelfUseModeEnabled": "true" if body.get("SelfUseModeEnabled") else "false",
            "DemoSiteEnabled": "true" if body.get("DemoSiteEnabled") else "false",
        }
        async with state.dbs.main.begin() as conn:
            await create_root(conn, username, password, now)
            for key, value in modes.items():
                await upsert(conn, options, {"key": key, "value": value}, ["key"], {"value": value})
            await setups_repo.mark_done(conn, state.version, now)
        state.options.apply(modes)
    await state.relay.notifier.publish(OPTIONS)
    return ok(message="系统初始化成功")
