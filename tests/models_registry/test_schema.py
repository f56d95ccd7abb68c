"""The OpenAPI document of the models API validates, states the bounds of models_registry.limits, and its viewers
are served offline."""

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from models_registry import limits
from tests.models_registry.helpers import RESPONSE_FIELDS

EXTERNAL_HOSTS = ("https://cdn", "http://cdn", "unpkg", "jsdelivr", "cdnjs", "fonts.googleapis")


@pytest.fixture
def schema(api_client: APIClient) -> dict[str, Any]:
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200, response.content
    return orjson.loads(response.content)


def test_spectacular_validates_without_warnings(tmp_path: Path) -> None:
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    document = yaml.safe_load(target.read_text())
    assert document["openapi"].startswith("3.")
    assert "/v1/models" in document["paths"]


def test_schema_is_public(api_client: APIClient) -> None:
    assert api_client.get("/api/schema/").status_code == 200


def test_the_document_names_its_server_contact_and_license(client, schema: dict[str, Any]) -> None:
    """Relative by default (settings.OPENAPI_*_URL): the viewers call the host that serves them, and
    the license is this deployment's /license page."""
    assert schema["servers"] == [{"url": "/", "description": "This deployment of the Model Registry."}]
    assert schema["info"]["contact"]["url"] == "/"
    assert schema["info"]["license"] == {"name": "Proprietary", "url": "/license"}

    response = client.get(schema["info"]["license"]["url"])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "Proprietary. All rights reserved." in response.content.decode()


def test_every_tag_and_path_parameter_is_described(schema: dict[str, Any]) -> None:
    described = {tag["name"] for tag in schema["tags"] if tag.get("description")}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert set(operation["tags"]) <= described, (method, path)
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), (method, path, parameter["name"])


def test_schema_documents_the_models_endpoints(schema: dict[str, Any]) -> None:
    paths = schema["paths"]

    assert set(paths["/v1/models"]) >= {"get", "post"}
    assert set(paths["/v1/models/{id}"]) >= {"get", "patch", "delete"}
    assert "put" not in paths["/v1/models/{id}"]
    assert "get" in paths["/v1/models/{id}/resolved"]


def test_schema_has_the_bearer_security_scheme(schema: dict[str, Any]) -> None:
    scheme = schema["components"]["securitySchemes"]["StytchBearer"]

    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    for path, operations in schema["paths"].items():
        if path.startswith("/v1/models"):
            for method, operation in operations.items():
                assert {"StytchBearer": []} in operation["security"], (method, path)


def test_create_examples_from_the_source_document_are_present(schema: dict[str, Any]) -> None:
    examples = schema["paths"]["/v1/models"]["post"]["requestBody"]["content"]["application/json"]["examples"]

    names = {example["value"]["name"] for example in examples.values()}
    assert {"large-model Omni", "Custom Support Model"} <= names


def test_create_documents_every_error_status(schema: dict[str, Any]) -> None:
    responses = schema["paths"]["/v1/models"]["post"]["responses"]

    assert {"201", "400", "401", "403", "415"} <= set(responses)
    for status in ("400", "401", "403", "415"):
        assert responses[status]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Error"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_viewers_are_served_without_external_hosts(api_client: APIClient, path: str) -> None:
    response = api_client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for host in EXTERNAL_HOSTS:
        assert host not in html, host
    assert re.findall(r'(?:src|href)="(?:https?:)?//[^"]+"', html) == []
    assert "/api/schema/" in html


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_viewer_assets_are_served_locally(client, path: str) -> None:
    html = client.get(path).content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)

    assert assets, html
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/v1/models/{id}", "get", "200"),
        ("/v1/models/{id}", "patch", "200"),
        ("/v1/models", "post", "201"),
        ("/v1/prompt-particles/{id}", "get", "200"),
        ("/v1/prompt-compositions/{id}", "patch", "200"),
        ("/v1/models/{id}/versions/{number}/restore", "post", "200"),
    ],
)
def test_the_etag_response_header_is_documented(schema: dict[str, Any], path: str, method: str, status: str) -> None:
    assert "ETag" in schema["paths"][path][method]["responses"][status].get("headers", {})


def test_every_api_operation_documents_server_errors_in_the_error_shape(schema: dict[str, Any]) -> None:
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    ]
    assert len(operations) > 20
    for path, method, operation in operations:
        for status in ("500", "503"):
            response = operation["responses"].get(status)
            assert response is not None, f"{method.upper()} {path} does not document {status}"
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


# --- The document states the same bounds as models_registry.limits ------------------------------


@pytest.mark.parametrize("component", ["UserModelWriteRequest", "PatchedUserModelWriteRequest"])
def test_schema_states_the_same_bounds_as_limits(schema: dict[str, Any], component: str) -> None:
    properties = schema["components"]["schemas"][component]["properties"]

    assert properties["name"]["minLength"] == limits.NAME_MIN_LENGTH
    assert properties["name"]["maxLength"] == limits.NAME_MAX_LENGTH
    assert properties["contextWindow"]["minimum"] == limits.CONTEXT_WINDOW_MIN
    assert properties["contextWindow"]["maximum"] == limits.CONTEXT_WINDOW_MAX
    assert properties["maxTokens"]["minimum"] == limits.MAX_TOKENS_MIN
    assert properties["maxTokens"]["maximum"] == limits.MAX_TOKENS_MAX
    assert properties["maxTokens"]["nullable"] is True
    assert properties["systemPromptOverride"]["maxLength"] == limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH
    assert properties["description"]["maxLength"] == limits.DESCRIPTION_MAX_LENGTH


def test_schema_requires_parent_and_name_on_create_only(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]

    assert set(components["UserModelWriteRequest"]["required"]) == {"parentId", "name"}
    assert "required" not in components["PatchedUserModelWriteRequest"]


def test_schema_response_states_the_bounds(schema: dict[str, Any]) -> None:
    properties = schema["components"]["schemas"]["AIModel"]["properties"]

    assert set(properties) == RESPONSE_FIELDS
    assert (properties["contextWindow"]["minimum"], properties["contextWindow"]["maximum"]) == (
        limits.CONTEXT_WINDOW_MIN,
        limits.CONTEXT_WINDOW_MAX,
    )
    assert (properties["maxTokens"]["minimum"], properties["maxTokens"]["maximum"]) == (
        limits.MAX_TOKENS_MIN,
        limits.MAX_TOKENS_MAX,
    )
