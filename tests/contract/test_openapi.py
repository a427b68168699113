"""Every operation in /api/openapi.json documents itself completely.

An id and a summary; an example of every JSON request and response body that validates
against the route's own models; for every error status, the error envelope as its schema
and the codes a client may meet there, each a code the service or our SQL really raises.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from starlette.routing import BaseRoute

from service.core.config import Settings
from service.core.errors import ErrorEnvelope
from service.main import create_app
from service.openapi import ERROR_CODES, EXAMPLES
from tests.contract.codes import service_codes, sql_codes

METHODS = {"get", "post", "put", "patch", "delete"}
# The one non-envelope failure: health reports a degraded state in its own shape.
NON_ENVELOPE = {("get_health", "503")}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    # Development settings mount every router the default `uvicorn service.main:app` does.
    return create_app(Settings(_env_file=None, ENV="development"))


@pytest.fixture(scope="module")
def spec(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
        if method in METHODS
    ]


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, inside included routers too (FastAPI keeps them as they were declared)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes)


def routes_by_id(app: FastAPI) -> dict[str, APIRoute]:
    return {r.operation_id: r for r in api_routes(app.routes) if r.operation_id}


def test_every_operation_has_a_unique_id_and_a_summary(spec: dict[str, Any]) -> None:
    ids = [op.get("operationId") for _, _, op in operations(spec)]
    assert all(ids), ids
    assert len(ids) == len(set(ids)), ids
    for path, method, op in operations(spec):
        assert op.get("summary", "").strip(), (method, path)
    assert len(ids) >= 12


def test_every_operation_is_in_the_documentation_registry(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        assert op["operationId"] in ERROR_CODES, f"{method} {path}: add it to service/openapi.py"


def test_json_bodies_have_examples_that_validate(spec: dict[str, Any], app: FastAPI) -> None:
    routes = routes_by_id(app)
    checked = 0
    for path, method, op in operations(spec):
        route = routes[op["operationId"]]
        request = op.get("requestBody", {}).get("content", {}).get("application/json")
        if request is not None:
            assert "example" in request, f"{method} {path}: request example"
            assert route.body_field is not None
            body_type = route.body_field.field_info.annotation
            assert body_type is not None
            TypeAdapter(body_type).validate_python(request["example"])
            checked += 1
        for status, response in op["responses"].items():
            media = response.get("content", {}).get("application/json")
            if not status.startswith("2") or media is None:
                continue
            assert "example" in media, f"{method} {path}: {status} example"
            assert route.response_model is not None, (method, path)
            TypeAdapter(route.response_model).validate_python(media["example"])
            checked += 1
    assert checked >= 15


def test_multipart_bodies_describe_the_file_field(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        multipart = op.get("requestBody", {}).get("content", {}).get("multipart/form-data")
        if multipart is not None:
            assert multipart["schema"]["properties"]["file"]["format"] == "binary", (method, path)


def test_every_error_response_is_the_envelope_with_real_codes(spec: dict[str, Any]) -> None:
    known = set(service_codes()) | set(sql_codes())
    documented = 0
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            if status.startswith(("2", "3")) or (op["operationId"], status) in NON_ENVELOPE:
                continue
            media = response["content"]["application/json"]
            assert media["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}, (
                method,
                path,
                status,
            )
            examples = media.get("examples", {})
            assert examples, f"{method} {path} {status}: no error codes documented"
            for code, example in examples.items():
                envelope = ErrorEnvelope.model_validate(example["value"])
                assert envelope.error.code == code
                assert code in known, f"{method} {path}: {code} is raised nowhere"
                assert code in response["description"]
                documented += 1
    assert documented >= 40


def test_bearer_operations_document_401(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if any("HTTPBearer" in req for req in op.get("security", [])):
            assert "401" in op["responses"], (method, path)


def test_registry_covers_only_real_operations(spec: dict[str, Any]) -> None:
    ids = {op["operationId"] for _, _, op in operations(spec)}
    assert set(ERROR_CODES) <= ids
    assert set(EXAMPLES) <= ids


def test_the_envelope_is_a_documented_schema(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    envelope = schemas["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    assert envelope["description"]
    ErrorEnvelope.model_validate(envelope["examples"][0])
    assert set(schemas["ErrorBody"]["required"]) == {"code", "message"}


def test_status_codes_match_what_the_service_raises(spec: dict[str, Any]) -> None:
    raised = service_codes()
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            for code in response.get("content", {}).get("application/json", {}).get("examples", {}):
                if code in raised:
                    assert int(status) in raised[code], (method, path, code, status)
