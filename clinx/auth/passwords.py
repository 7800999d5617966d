"""bcrypt password hashing, compatible with New API / One API hashes (Go's ``$2a$`` prefix)."""

from __future__ import annotations

import bcrypt

from clinx.core.errors import ValidationError

MIN_LENGTH = 8
MAX_LENGTH = 20
_ROUNDS = 10  # Go's bcrypt.DefaultCost, so hashes cost what New API's cost.


def check_password_policy(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationError(
            f"密码长度必须在 {MIN_LENGTH} 到 {MAX_LENGTH} 个字符之间 (password must be 8-20 characters)"
        )


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(_ROUNDS)).decode()


def verify_password(password: str, hashed: str) -> bool:
    if not hashed or not hashed.startswith("$2"):
        return False
    try:
        return bcrypt.checkpw(password.encode()[:72], hashed.encode())
    except ValueError:
        return False
