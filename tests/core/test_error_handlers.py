"""404 and 500 raised outside DRF views still answer in the API's JSON error shape under /v1/."""

import pytest
from django.test import Client


@pytest.fixture
def client_without_reraise() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.urls("tests.core.error_urls")
def test_a_crash_in_a_plain_view_under_v1_is_a_json_500(client_without_reraise: Client) -> None:
    response = client_without_reraise.get("/v1/broken")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": 500, "code": "server_error", "detail": "An unexpected error occurred."}
    assert b"boom" not in response.content


@pytest.mark.urls("tests.core.error_urls")
def test_a_crash_outside_the_api_keeps_the_html_page(client_without_reraise: Client) -> None:
    response = client_without_reraise.get("/html/broken")

    assert response.status_code == 500
    assert "application/json" not in response["Content-Type"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_an_unknown_path_under_v1_is_a_json_404_for_every_method(client: Client, method: str) -> None:
    response = getattr(client, method)("/v1/does-not-exist")

    assert response.status_code == 404
    assert response.json() == {"status": 404, "code": "not_found", "detail": "Not found."}
