"""``/api/openapi.json``: a valid OpenAPI 3.1 document describing every JSON endpoint, built from the DTOs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from conexoos.app.dto.links import LINK, LINK_CREATE, LINK_UPDATE, REORDER

from .conftest import Account, form_token

IGNORED_METHODS = {"HEAD", "OPTIONS"}
SELF = "/api/openapi.json"


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    """The served document."""
    response = client.get(SELF)
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def placeholder_path(path: str) -> str:
    """``/api/edit/link/<id:link_id>`` and ``/api/edit/link/{id}`` both become ``/api/edit/link/{}``."""
    return re.sub(r"\{[^}]+\}", "{}", re.sub(r"<[^>]+>", "{}", path))


def schema_at(document: dict[str, Any], reference: str) -> dict[str, Any]:
    """Follow a local ``$ref``."""
    assert reference.startswith("#/")
    node: Any = document
    for part in reference[2:].split("/"):
        node = node[part]
    return node  # type: ignore[no-any-return]


def validator_for(document: dict[str, Any], name: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator (OpenAPI 3.1's dialect) for ``components.schemas[name]``."""
    root = {**document["components"]["schemas"][name], "components": document["components"]}
    return Draft202012Validator(root)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document, cls=OpenAPIV31SpecValidator)  # raises on any structural mistake
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] and document["info"]["version"]


def test_every_json_route_is_documented_with_its_methods(app: Flask, document: dict[str, Any]) -> None:
    documented = {
        placeholder_path(path): {method.upper() for method in operations}
        for path, operations in document["paths"].items()
    }
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule != SELF:
            routes.setdefault(placeholder_path(rule.rule), set()).update(
                (rule.methods or set()) - IGNORED_METHODS
            )
    assert routes, "no /api/ route found"
    for path, methods in routes.items():
        assert path in documented, f"{path} is served but not in the OpenAPI document"
        assert methods <= documented[path], f"{path}: {sorted(methods - documented[path])} not documented"
    assert set(documented) <= set(routes), "the document lists paths that are not served"


def test_every_operation_documents_the_401_and_400_it_answers(
    app: Flask, document: dict[str, Any], alice: Account
) -> None:
    """Called for real: without a login each JSON route answers 401, and each write without a CSRF token
    answers 400; both statuses must be in the document."""
    anonymous = app.test_client()
    token = form_token(anonymous.get("/login"))
    failures = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule == SELF:
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        documented_path = next(
            p for p in document["paths"] if placeholder_path(p) == placeholder_path(rule.rule)
        )
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            statuses = set(document["paths"][documented_path][method.lower()]["responses"])
            answered = anonymous.open(
                path, method=method, json={}, headers={"X-CSRFToken": token}
            ).status_code
            if answered != 401 or "401" not in statuses:
                failures.append(
                    f"{method} {rule.rule}: anonymous got {answered}, documented {sorted(statuses)}"
                )
            if method != "GET":
                answered = alice.client.open(path, method=method, json={}).status_code
                if answered != 400 or "400" not in statuses:
                    failures.append(
                        f"{method} {rule.rule}: no CSRF got {answered}, documented {sorted(statuses)}"
                    )
    assert not failures, "\n".join(failures)


LINK_OPERATIONS = {
    ("/api/links", "get"): {"200", "401"},
    ("/api/add/link", "post"): {"201", "400", "401", "422"},
    ("/api/edit/link/{id}", "put"): {"200", "400", "401", "404", "422"},
    ("/api/edit/link/{id}", "patch"): {"200", "400", "401", "404", "422"},
    ("/api/delete/link/{id}", "delete"): {"400", "401", "404"},
    ("/api/links/reorder", "post"): {"200", "400", "401", "404", "422"},
}


@pytest.mark.parametrize(("path", "method"), list(LINK_OPERATIONS))
def test_links_operations_list_every_status_they_answer(
    document: dict[str, Any], path: str, method: str
) -> None:
    operation = document["paths"][path][method]
    statuses = set(operation["responses"])
    assert LINK_OPERATIONS[(path, method)] <= statuses
    if method == "delete":
        assert statuses & {"200", "204"}
    for status in statuses - {"200", "201", "204"}:
        content = operation["responses"][status]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Error"}
    if "{id}" in path:
        (parameter,) = operation["parameters"]
        assert parameter["in"] == "path" and parameter["name"] == "id" and parameter["required"] is True
    if method != "get":
        assert any("csrf" in requirement for requirement in operation["security"])


def test_request_and_response_bodies_point_at_the_dto_components(document: dict[str, Any]) -> None:
    paths = document["paths"]
    request_of = {
        ("/api/add/link", "post"): LINK_CREATE,
        ("/api/edit/link/{id}", "put"): LINK_UPDATE,
        ("/api/links/reorder", "post"): REORDER,
    }
    for (path, method), dto in request_of.items():
        body = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{dto.name}"}
    created = paths["/api/add/link"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": f"#/components/schemas/{LINK.name}"}
    listed = paths["/api/links"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"type": "array", "items": {"$ref": f"#/components/schemas/{LINK.name}"}}
    for operations in paths.values():
        for operation in operations.values():
            for reference in re.findall(r"'\$ref': '([^']+)'", str(operation)):
                assert schema_at(document, reference), f"dangling {reference}"


def test_components_are_generated_from_the_dtos(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for dto in (LINK, LINK_CREATE, LINK_UPDATE, REORDER):
        assert schemas[dto.name] == dto.json_schema()
        assert set(schemas[dto.name]["properties"]) == {field.name for field in dto.fields}
    create = schemas["LinkCreate"]
    assert set(create["required"]) == {"title", "url"}
    assert create["properties"]["title"]["maxLength"] == 100
    assert create["properties"]["url"]["maxLength"] == 500
    assert create["additionalProperties"] is False
    error = schemas["Error"]["properties"]["error"]
    assert set(error["required"]) == {"code", "message", "field"}


def test_real_responses_match_their_documented_schemas(document: dict[str, Any], alice: Account) -> None:
    link_schema = validator_for(document, "Link")
    error_schema = validator_for(document, "Error")
    create_schema = validator_for(document, "LinkCreate")
    body = {"title": "Docs", "url": "https://docs.example/", "starts_at": "2030-01-01T00:00:00Z"}
    create_schema.validate(body)

    created = alice.api("POST", "/api/add/link", body).get_json()
    link_schema.validate(created)
    assert set(created) == set(document["components"]["schemas"]["Link"]["properties"])
    for link in alice.links():
        link_schema.validate(link)
    for failed in (
        alice.api("POST", "/api/add/link", {"title": ""}),
        alice.api("PUT", "/api/edit/link/999", {}),
        alice.client.application.test_client().get("/api/links"),
        alice.client.post("/api/add/link", json=body),
    ):
        assert failed.status_code >= 400
        error_schema.validate(failed.get_json())


def test_the_documented_input_rules_refuse_what_the_api_refuses(document: dict[str, Any]) -> None:
    create = validator_for(document, "LinkCreate")
    assert not create.is_valid({"title": "", "url": "https://x.example/"})
    assert not create.is_valid({"title": "x" * 101, "url": "https://x.example/"})
    assert not create.is_valid({"title": "x", "url": "https://x.example/", "colour": "red"})
    assert not create.is_valid({"title": "x", "url": "https://x.example/", "enabled": "yes"})
    assert not create.is_valid({"title": "x", "url": "javascript:alert(1)"})
    assert not create.is_valid({"title": "x"})
    reorder = validator_for(document, "Reorder")
    assert reorder.is_valid({"ids": [3, 1, 2]})
    assert not reorder.is_valid({"ids": [1, 1]})


def test_every_operation_has_a_unique_operation_id(document: dict[str, Any]) -> None:
    ids = [
        operation["operationId"]
        for operations in document["paths"].values()
        for operation in operations.values()
    ]
    assert len(ids) == len(set(ids)), ids
    edit = document["paths"]["/api/edit/product/{id}"]
    put, patch = edit["put"]["operationId"], edit["patch"]["operationId"]
    assert put != patch and put.startswith("edit_product") and patch.startswith("edit_product")


@pytest.mark.parametrize(
    ("name", "change"), [("LinkUpdate", {"enabled": False}), ("ProductUpdate", {"price": 1})]
)
def test_update_schemas_accept_any_subset_as_the_api_does(
    document: dict[str, Any], alice: Account, name: str, change: dict[str, Any]
) -> None:
    update = validator_for(document, name)
    assert "required" not in document["components"]["schemas"][name]
    assert update.is_valid({}) and update.is_valid(change)
    assert not update.is_valid({"colour": "red"})
