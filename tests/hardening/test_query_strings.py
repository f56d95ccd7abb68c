"""Strict query strings: an unknown parameter is a 400 naming it (the README promises strict input),
a repeated one is a list where the schema says list (`ordering`) and a 400 elsewhere."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.assertions import assert_error_shape
from tests.factories import SystemModelFactory
from tests.hardening.conftest import AUDIT_URL, COMPOSITIONS_URL, MODELS_URL, PARTICLES_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


@pytest.mark.parametrize("url", [MODELS_URL, PARTICLES_URL, COMPOSITIONS_URL, AUDIT_URL])
def test_an_unknown_parameter_on_a_list_is_a_400_naming_it(admin_client: APIClient, url: str) -> None:
    body = assert_error_shape(admin_client.get(f"{url}?isSytem=true&limit=5"), 400)

    assert body["errors"] == {"isSytem": ["Unknown query parameter."]}


def test_an_unknown_parameter_on_one_object_is_a_400(admin_client: APIClient, user_model: AIModel) -> None:
    for path in (f"{MODELS_URL}/{user_model.pk}", f"{MODELS_URL}/{user_model.pk}/resolved"):
        body = assert_error_shape(admin_client.get(f"{path}?expand=parent"), 400)
        assert body["errors"] == {"expand": ["Unknown query parameter."]}


def test_paging_parameters_are_known_where_a_list_pages(admin_client: APIClient, user_model: AIModel) -> None:
    assert admin_client.get(f"{MODELS_URL}?limit=1&offset=0").status_code == 200
    assert admin_client.get(f"{MODELS_URL}/{user_model.pk}/versions?limit=1").status_code == 200
    body = assert_error_shape(admin_client.get(f"{MODELS_URL}/{user_model.pk}?limit=1"), 400)
    assert body["errors"] == {"limit": ["Unknown query parameter."]}


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_ordering_repeated_is_the_same_list_as_comma_separated(admin_client: APIClient) -> None:
    SystemModelFactory(name="B small", context_window=8_192, max_tokens=1_024)
    SystemModelFactory(name="A small", context_window=8_192, max_tokens=1_024)
    SystemModelFactory(name="C large", context_window=200_000)

    repeated = _names(admin_client.get(f"{MODELS_URL}?ordering=-contextWindow&ordering=name"))
    comma_separated = _names(admin_client.get(f"{MODELS_URL}?ordering=-contextWindow,name"))

    assert repeated == comma_separated == ["C large", "A small", "B small"]


@pytest.mark.parametrize("query", ["isSystem=true&isSystem=false", "limit=1&limit=2", "search=a&search=b"])
def test_a_repeated_parameter_that_is_not_a_list_is_a_400(admin_client: APIClient, query: str) -> None:
    name = query.split("=")[0]

    body = assert_error_shape(admin_client.get(f"{MODELS_URL}?{query}"), 400)

    assert body["errors"] == {name: ["Given more than once; send it once."]}


@pytest.mark.parametrize("method", ["trace", "put"])
def test_a_method_the_endpoint_lacks_is_a_405_before_its_query_string_is_judged(admin_client, method: str) -> None:
    """schemathesis' unsupported_method check: TRACE /v1/prompt-compositions?limit=1 was a 400."""
    response = admin_client.generic(method.upper(), "/v1/prompt-compositions?limit=1&unknown=2")

    assert_error_shape(response, 405)
