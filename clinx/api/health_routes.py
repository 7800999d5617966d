"""GET /api/health: is this node able to serve — version, node role, database and cache state, the version
of the options snapshot it runs on, and its place in the cluster (node id, change subscription, leader lease).
Public and cheap, for load balancers and operators.

A node whose Redis is unreachable still serves (from the database, with per-node caches): that is 200 with
``data.cache.state`` "degraded: …" and a message saying so. A database that does not answer is 503."""

from __future__ import annotations

from fastapi import APIRouter

from clinx.api.deps import State
from clinx.api.envelope import JSONBody
from clinx.store.repos import setups as setups_repo

router = APIRouter(prefix="/api", tags=["public"])
CACHE_OK = "ok"
CACHE_UNREACHABLE = "unreachable"


@router.get("/health", summary="Node health: version, role, database and cache state, config version")
async def health(state: State) -> JSONBody:
    try:
        await setups_repo.is_done(state.dbs.main)
        database = "ok"
    except Exception as exc:  # any driver error means "the database does not answer": report, don't raise
        database = f"error: {type(exc).__name__}"
    cache = await state.cluster.cache_state()
    healthy = database == "ok" and cache != CACHE_UNREACHABLE
    data = {
        "version": state.version,
        "node_name": state.settings.node_name,
        "node_role": "master" if state.settings.is_master else "slave",
        "database": {"kind": state.dbs.kind, "state": database},
        "cache": {"kind": state.cache.name, "state": cache},
        "config_version": state.options.current.version,
        "channels": len(state.index.current.channels),
        **state.cluster.report(),
    }
    if not healthy:
        message = "degraded"
    elif cache != CACHE_OK:
        message = "degraded: the shared cache (Redis) is unreachable; serving from the database"
    else:
        message = ""
    return JSONBody({"success": healthy, "message": message, "data": data}, status_code=200 if healthy else 503)
