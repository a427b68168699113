"""The auth API documents itself: operation ids, summaries, and its error envelopes."""

from __future__ import annotations

import httpx

EXPECTED = {
    ("post", "/api/v1/auth/signup"): ("auth_signup", {"409", "422", "429"}),
    ("post", "/api/v1/auth/login"): ("auth_login", {"401", "422", "429"}),
    ("post", "/api/v1/auth/refresh"): ("auth_refresh", {"401", "422", "429"}),
    ("post", "/api/v1/auth/logout"): ("auth_logout", {"401", "422"}),
    ("get", "/api/v1/auth/me"): ("auth_me", {"401"}),
    ("post", "/api/v1/auth/password"): ("auth_change_password", {"401", "422"}),
    ("delete", "/api/v1/auth/account"): ("auth_delete_account", {"401", "422"}),
    ("get", "/api/v1/auth/.well-known/jwks.json"): ("auth_get_jwks", set()),
    ("get", "/.well-known/jwks.json"): ("get_jwks", set()),
}


async def test_every_auth_operation_is_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    for (method, path), (operation_id, errors) in EXPECTED.items():
        operation = spec["paths"][path][method]
        assert operation["operationId"] == operation_id
        assert operation["summary"]
        documented = set(operation["responses"])
        assert errors <= documented, (path, documented)
        for status in errors:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorEnvelope")
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
