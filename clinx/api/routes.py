"""The list of management routers, in registration order (specific paths before ``/{id}`` ones)."""

from __future__ import annotations

from fastapi import APIRouter

from clinx.api import account_routes, setup_routes


def all_routers() -> list[APIRouter]:
    return [
        setup_routes.router,
        account_routes.router,
    ]
