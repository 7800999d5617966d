"""Generated secrets in New API's formats: API keys, access tokens, redemption codes, invite codes."""

from __future__ import annotations

import secrets
import string
import uuid

_ALPHANUM = string.ascii_letters + string.digits


def random_string(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUM) for _ in range(length))


def new_api_key() -> str:
    """48 characters of [0-9A-Za-z], stored without the ``sk-`` prefix."""
    return random_string(48)


def new_access_token() -> str:
    return random_string(32)


def new_redemption_key() -> str:
    return uuid.uuid4().hex


def new_aff_code() -> str:
    return random_string(4)


def mask_key(key: str) -> str:
    """``abcd**********wxyz`` as New API's latest lists keys."""
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:4]}{'*' * 10}{key[-4:]}"
