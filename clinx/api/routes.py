"""The list of management routers, in registration order (specific paths before ``/{id}`` ones)."""

from __future__ import annotations

from fastapi import APIRouter

from clinx.api import (
    account_routes,
    channel_health_routes,
    channels_routes,
    data_routes,
    health_routes,
    logs_routes,
    metrics_routes,
    options_routes,
    pricing_routes,
    setup_routes,
    tokens_routes,
    users_admin_routes,
)


def all_routers() -> list[APIRouter]:
    return [
        setup_routes.router,
        health_routes.router,
        metrics_routes.router,
        account_routes.router,
        pricing_routes.router,
        users_admin_routes.router,
        tokens_routes.router,
        channel_health_routes.router,
        channels_routes.router,
        options_routes.router,
        logs_routes.router,
        data_routes.router,
    ]
