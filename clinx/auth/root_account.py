"""Create the root account, or reset its password, from the shell (``clinx root-password``)."""

from __future__ import annotations

from clinx import __version__
from clinx.auth.keys import new_aff_code
from clinx.auth.passwords import hash_password
from clinx.config.settings import Settings
from clinx.core.clock import SystemClock
from clinx.core.enums import Role, UserStatus
from clinx.store.engine import Connection, open_databases
from clinx.store.migrate import upgrade_all
from clinx.store.repos import setups as setups_repo
from clinx.store.repos import users as users_repo

ROOT_INITIAL_QUOTA = 100_000_000


async def create_root(conn: Connection, username: str, password: str, now: int) -> int:
    """Insert the root user as New API's setup wizard does (role 100, quota 100,000,000, "Root User")."""
    return await users_repo.create(
        conn,
        {
            "username": username,
            "password": hash_password(password),
            "display_name": "Root User",
            "role": int(Role.ROOT),
            "status": int(UserStatus.ENABLED),
            "quota": ROOT_INITIAL_QUOTA,
            "group": "default",
            "aff_code": new_aff_code(),
            "created_at": now,
            "setting": "",
        },
    )


async def set_root_password(settings: Settings, username: str, password: str) -> tuple[bool, str]:
    """Reset the first root user's password (bumping its auth version, which ends its sessions), or create
    the root user and mark setup done when there is none. Returns (created, username)."""
    dbs = open_databases(settings.sql_dsn, settings.sqlite_path, settings.log_sql_dsn)
    now = SystemClock().now()
    try:
        await upgrade_all(dbs.main, dbs.logs)
        async with dbs.main.begin() as conn:
            root = await users_repo.first_root(conn)
            if root is not None:
                await users_repo.reset_password(conn, int(root["id"]), hash_password(password))
                return False, str(root["username"])
            await create_root(conn, username, password, now)
        await setups_repo.adopt_existing_root(dbs.main, f"v{__version__}", now)
        return True, username
    finally:
        await dbs.dispose()
