"""GET /api/health: is this node able to serve — version, node role, database and cache state, and the
version of the options snapshot it runs on (public, cheap, for load balancers and operators)."""

from __future__ import annotations

from fastapi import APIRouter

from clinx.api.deps import State
from clinx.api.envelope import JSONBody
from clinx.store.repos import setups as setups_repo

router = APIRouter(prefix="/api", tags=["public"])


@router.get("/health", summary="Node health: version, role, database and cache state, config version")
async def health(state: State) -> JSONBody:
    try:
        await setups_repo.is_done(state.dbs.main)
        database = "ok"
    except Exception as exc:  # any driver error means "the database does not answer": report, don't raise
        database = f"error: {type(exc).__name__}"
    cache = "ok" if await state.cache.ping() else "unreachable"
    healthy = database == "ok" and cache == "ok"
    data = {
        "version": state.version,
        "node_name": state.settings.node_name,
        "node_role": "master" if state.settings.is_master else "slave",
        "database": {"kind": state.dbs.kind, "state": database},
        "cache": {"kind": state.cache.name, "state": cache},
        "config_version": state.options.current.version,
        "channels": len(state.index.current.channels),
    }
    return JSONBody(
        {"success": healthy, "message": "" if healthy else "degraded", "data": data},
        status_code=200 if healthy else 503,
    )
