"""An OpenAPI 3.1 document generated from the DTOs and the routes that declare them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from conexoos.framework.converters import LARGEST_ID

from .fields import Schema

View = TypeVar("View", bound=Callable[..., Any])

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
            },
        }
    },
}
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Malformed request or missing CSRF token",
    401: "Not logged in",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict with the item's state",
    422: "Invalid field",
    429: "Too many requests",
}


@dataclass
class Operation:
    """One documented endpoint."""

    path: str
    method: str
    summary: str
    request: Schema | None = None
    response: Schema | None = None
    many: bool = False
    success: int = 200
    errors: tuple[int, ...] = ()
    parameters: list[dict[str, Any]] = field(default_factory=list)
    media_type: str = "application/json"
    request_media_type: str = "application/json"
    operation_id: str = ""
    """Defaults to the view function's name (with the method appended when a view serves several)."""


@dataclass
class ApiRegistry:
    """Collects the operations declared by the API blueprints."""

    operations: list[Operation] = field(default_factory=list)

    def document(self, operation: Operation) -> Callable[[View], View]:
        """Decorator recording ``operation`` for the OpenAPI document; the view is unchanged."""

        def decorate(view: View) -> View:
            if not operation.operation_id:
                operation.operation_id = _unique_id(view.__name__, operation.method, self.operations)
            self.operations.append(operation)
            return view

        return decorate

    def openapi(self, title: str, version: str) -> dict[str, Any]:
        """The OpenAPI 3.1 document."""
        paths: dict[str, dict[str, Any]] = {}
        schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
        for operation in self.operations:
            for schema in (operation.request, operation.response):
                if schema is not None:
                    schemas[schema.name] = schema.json_schema()
            paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation)
        return {
            "openapi": "3.1.0",
            "info": {"title": title, "version": version},
            "paths": dict(sorted(paths.items())),
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                    "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
                },
            },
        }


def _unique_id(name: str, method: str, taken: list[Operation]) -> str:
    """``name``, or ``name_method`` when another operation already has it (one view for PUT and PATCH)."""
    if any(operation.operation_id == name for operation in taken):
        return f"{name}_{method.lower()}"
    return name


def _operation(operation: Operation) -> dict[str, Any]:
    body: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "responses": {},
    }
    if operation.parameters:
        body["parameters"] = operation.parameters
    if operation.request is not None:
        body["requestBody"] = {
            "required": True,
            "content": {
                operation.request_media_type: {
                    "schema": {"$ref": f"#/components/schemas/{operation.request.name}"}
                }
            },
        }
    success: dict[str, Any] = {"description": STATUS_TEXT.get(operation.success, "OK")}
    if operation.response is not None:
        ref = {"$ref": f"#/components/schemas/{operation.response.name}"}
        schema = {"type": "array", "items": ref} if operation.many else ref
        success["content"] = {operation.media_type: {"schema": schema}}
    body["responses"][str(operation.success)] = success
    for status in operation.errors:
        body["responses"][str(status)] = {
            "description": STATUS_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    if operation.method.upper() != "GET" or 401 in operation.errors:
        body["security"] = (
            [{"session": [], "csrf": []}] if operation.method.upper() != "GET" else [{"session": []}]
        )
    return body


def path_id(name: str = "id") -> dict[str, Any]:
    """An id path parameter: what the ``id`` URL converter matches (a positive INTEGER)."""
    schema = {"type": "integer", "minimum": 1, "maximum": LARGEST_ID}
    return {"name": name, "in": "path", "required": True, "schema": schema}


api = ApiRegistry()
"""The product's one registry; blueprints decorate their views with ``api.document(...)``."""
