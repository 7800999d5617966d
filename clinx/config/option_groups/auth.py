"""Login, registration, e-mail, OAuth providers and Turnstile (newapi-contract §9 "Auth")."""

from __future__ import annotations

from clinx.config.option_groups import checks
from clinx.config.option_groups.declare import flag, grouped, text, whole

DEFAULT_EMAIL_DOMAINS = "gmail.com,163.com,126.com,qq.com,outlook.com,hotmail.com,icloud.com,yahoo.com,foxmail.com"

SPECS = grouped(
    "Auth",
    [
        flag("PasswordLoginEnabled", True, "Allow login with username and password."),
        flag("PasswordRegisterEnabled", True, "Allow registration with username and password."),
        flag("RegisterEnabled", True, "Allow new users to register at all (any method)."),
        flag("EmailVerificationEnabled", False, "Registration requires an e-mailed verification code."),
        flag("EmailDomainRestrictionEnabled", False, "Only addresses of EmailDomainWhitelist may register."),
        flag("EmailAliasRestrictionEnabled", False, "Refuse e-mail aliases (user+tag@…, dots in Gmail names)."),
        text("EmailDomainWhitelist", DEFAULT_EMAIL_DOMAINS, "Comma-separated e-mail domains allowed to register."),
        text("SMTPServer", "", "SMTP server host."),
        whole("SMTPPort", 587, "SMTP server port.", validate=checks.between(0, 65535)),
        text("SMTPAccount", "", "SMTP login account."),
        text("SMTPFrom", "", "Sender address; empty = SMTPAccount."),
        text("SMTPToken", "", "SMTP password or token (write-only)."),
        flag("SMTPSSLEnabled", False, "Connect to SMTP over TLS."),
        flag("GitHubOAuthEnabled", False, "Allow GitHub login (needs the GitHub client id and secret)."),
        text("GitHubClientId", "", "GitHub OAuth app client id."),
        text("GitHubClientSecret", "", "GitHub OAuth app client secret (write-only)."),
        flag("LinuxDOOAuthEnabled", False, "Allow LinuxDO login (needs the LinuxDO client id and secret)."),
        text("LinuxDOClientId", "", "LinuxDO OAuth client id."),
        text("LinuxDOClientSecret", "", "LinuxDO OAuth client secret (write-only)."),
        whole("LinuxDOMinimumTrustLevel", 0, "Minimum LinuxDO trust level allowed to log in."),
        flag("TelegramOAuthEnabled", False, "Allow Telegram login (needs the bot token)."),
        text("TelegramBotToken", "", "Telegram bot token (write-only)."),
        text("TelegramBotName", "", "Telegram bot name for the login widget."),
        flag("WeChatAuthEnabled", False, "Allow WeChat login through a WeChat server (needs its address and token)."),
        text("WeChatServerAddress", "", "WeChat login server address."),
        text("WeChatServerToken", "", "WeChat login server token (write-only)."),
        text("WeChatAccountQRCodeImageURL", "", "QR code image of the WeChat official account."),
        flag("TurnstileCheckEnabled", False, "Require Cloudflare Turnstile on login and registration."),
        text("TurnstileSiteKey", "", "Cloudflare Turnstile site key (omitted from GET /api/option/, as New API)."),
        text("TurnstileSecretKey", "", "Cloudflare Turnstile secret key (write-only)."),
        flag("oidc.enabled", False, "Allow OpenID Connect login (needs the OIDC client id and secret)."),
        text("oidc.client_id", "", "OIDC client id."),
        text("oidc.client_secret", "", "OIDC client secret (write-only)."),
        text("oidc.well_known", "", "OIDC discovery URL (.well-known/openid-configuration)."),
        text("oidc.authorization_endpoint", "", "OIDC authorization endpoint."),
        text("oidc.token_endpoint", "", "OIDC token endpoint."),
        text("oidc.user_info_endpoint", "", "OIDC user-info endpoint."),
    ],
)
