"""`v1/bench/resolved-floor/{id}` (benchmarks/urls.py): the anchor that answers a cached `/resolved`
with the hit's own I/O and no DRF. It must find the API's entry under the API's key (same body,
same headers), count the rate limits as the API does, and serve nothing the API would not."""

import pytest
from django.core.cache import caches

from models_registry.models import AIModel
from tests.factories import CompositionFactory, ParticleFactory, UserModelFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("benchmarks.urls")]

KEPT = ("Content-Type", "ETag", "Cache-Control", "Allow", "Vary")  # Vary: the API's and the CORS middleware's


@pytest.fixture(autouse=True)
def cache_on(response_cache_on: str) -> str:
    return response_cache_on


@pytest.fixture
def model() -> AIModel:
    composition = CompositionFactory(particles=[ParticleFactory(content="You are helpful.")])
    return UserModelFactory(organization_id="org-a", system_prompt_composition=composition)


def floor(client, model: AIModel):
    return client.get(f"/v1/bench/resolved-floor/{model.pk}")


def test_it_answers_the_apis_cached_body_and_headers(admin_client, model: AIModel) -> None:
    api = admin_client.get(f"/v1/models/{model.pk}/resolved")
    assert api.status_code == 200

    answered = floor(admin_client, model)

    assert answered.status_code == 200
    assert answered.content == api.content
    assert {name: answered.get(name) for name in KEPT} == {name: api.get(name) for name in KEPT}


def test_nothing_cached_is_a_500_the_benchmark_stops_on(admin_client, model: AIModel) -> None:
    assert floor(admin_client, model).status_code == 500


def test_after_a_write_the_old_entry_is_not_found(admin_client, model: AIModel) -> None:
    assert admin_client.get(f"/v1/models/{model.pk}/resolved").status_code == 200
    assert admin_client.patch(f"/v1/models/{model.pk}", {"description": "changed"}, format="json").status_code == 200

    assert floor(admin_client, model).status_code == 500  # the generations moved: a new key


def test_another_organizations_token_finds_nothing(admin_client, client_for, model: AIModel) -> None:
    assert admin_client.get(f"/v1/models/{model.pk}/resolved").status_code == 200

    assert floor(client_for(org="org-b"), model).status_code == 500


def test_without_a_token_or_with_a_bad_one_it_is_a_401(api_client, model: AIModel) -> None:
    assert floor(api_client, model).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert floor(api_client, model).status_code == 401


def test_a_client_the_api_refuses_gets_no_body(admin_client, m2m_client_for, model: AIModel) -> None:
    assert admin_client.get(f"/v1/models/{model.pk}/resolved").status_code == 200
    unscoped = m2m_client_for("read:prompts")

    assert unscoped.get(f"/v1/models/{model.pk}/resolved").status_code == 403
    assert floor(unscoped, model).status_code == 403


def test_it_counts_the_rate_limits_as_the_api_does(cache_on: str, admin_client, model: AIModel) -> None:
    if cache_on != "redis-with-rate-limits":
        pytest.skip("rate limits are counted on Redis only in this fixture")
    from django_redis import get_redis_connection

    assert admin_client.get(f"/v1/models/{model.pk}/resolved").status_code == 200
    assert floor(admin_client, model).status_code == 200

    redis = get_redis_connection("default")
    prefix = caches["default"].key_prefix
    counters = {key.decode(): int(redis.get(key)) for key in redis.keys(f"{prefix}*throttle:*org-a*")}
    # The organization's and the caller's counter, each counting both requests (summed: the two
    # may fall in two windows).
    scopes = ("organization", "client")
    by_scope = {scope: sum(n for key, n in counters.items() if f":{scope}:" in key) for scope in scopes}
    assert by_scope == {"organization": 2, "client": 2}, counters
