"""The OpenAPI document and Swagger UI, served without any CDN."""

from __future__ import annotations

from tests.support.app import RunningApp


async def test_openapi_document_lists_management_routes(app: RunningApp) -> None:
    doc = (await app.client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/status", "/api/setup", "/api/user/login", "/api/user/self", "/api/user/manage"):
        assert path in doc["paths"], path


async def test_swagger_ui_uses_local_assets(app: RunningApp) -> None:
    for page in ("/swagger", "/swag.html"):
        html = (await app.client.get(page)).text
        assert "/swagger-assets/swagger-ui-bundle.js" in html
        assert "cdn" not in html.lower()
    js = await app.client.get("/swagger-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
