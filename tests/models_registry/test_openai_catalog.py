"""The OpenAI-compatible catalog (issue 17), driven by the official `openai` SDK against a live
server, as a chat runtime or gateway would: `models.list()`, `models.retrieve()`, a 404, and
errors in OpenAI's shape."""

from __future__ import annotations

from datetime import timedelta

import openai
import pytest
from rest_framework.test import APIClient

from models_registry import entitlement_services, lifecycle
from models_registry.entitlements import Plan
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_rate_limits")]

TODAY = lifecycle.today()


@pytest.fixture
def catalog():
    usable = SystemModelFactory(name="GPT 4.1", slug="gpt-4.1", provider="openai", provider_model_id="gpt-4.1")
    retired = SystemModelFactory(slug="old-model", deprecated_at=TODAY - timedelta(days=9), retires_at=TODAY)
    disabled = SystemModelFactory(slug="disabled-model", is_enabled=False)
    shadowed = SystemModelFactory(slug="acme-support", provider_model_id="shadowed")
    composition = CompositionFactory(particles=[ParticleFactory(content="You are Acme's support agent.")])
    own = UserModelFactory(
        parent=usable, slug="acme-support", name="Acme Support", system_prompt_composition=composition, max_tokens=1000
    )
    UserModelFactory(parent=usable, slug="switched-off", is_enabled=False)
    UserModelFactory(parent=retired, slug="on-retired-base")
    UserModelFactory(parent=usable, slug="someone-elses", organization_id="org-b")
    return {"usable": usable, "retired": retired, "disabled": disabled, "shadowed": shadowed, "own": own}


@pytest.fixture
def sdk(live_server, make_token) -> openai.OpenAI:
    token = make_token(org="org-a", roles=("stytch_member",))
    return openai.OpenAI(base_url=f"{live_server.url}/openai/v1", api_key=token, max_retries=0, timeout=10)


def test_models_list_shows_what_the_caller_can_use(sdk, catalog) -> None:
    page = sdk.models.list()

    ids = [model.id for model in page.data]
    assert ids == ["acme-support", "gpt-4.1"], "not retired, not disabled, not another organization's; own wins"
    own = next(model for model in page.data if model.id == "acme-support")
    assert own.object == "model" and own.owned_by == "org-a"
    assert own.created == int(catalog["own"].created_at.timestamp())
    extra = own.model_extra
    assert (extra["context_window"], extra["max_tokens"]) == (catalog["own"].context_window, 1000)
    assert extra["registry_id"] == str(catalog["own"].pk)
    system = next(model for model in page.data if model.id == "gpt-4.1")
    assert system.owned_by == "openai"
    assert system.model_extra["capabilities"] == {"streaming": True, "tools": True, "vision": False, "reasoning": False}


def test_models_retrieve_has_the_resolved_system_prompt(sdk, catalog) -> None:
    model = sdk.models.retrieve("acme-support")

    assert model.id == "acme-support"
    assert model.model_extra["system_prompt"] == "You are Acme's support agent."
    assert model.model_extra["system_prompt_source"] == "composition"


@pytest.mark.parametrize("slug", ["no-such-model", "old-model", "disabled-model", "someone-elses", "on-retired-base"])
def test_a_model_the_caller_cannot_use_is_openais_404(sdk, catalog, slug: str) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.models.retrieve(slug)

    error = missing.value.body
    assert missing.value.status_code == 404
    assert error["type"] == "invalid_request_error" and error["code"] == "model_not_found"
    assert slug in error["message"]


def test_a_bad_token_is_openais_401(live_server, catalog) -> None:
    client = openai.OpenAI(base_url=f"{live_server.url}/openai/v1", api_key="not-a-jwt", max_retries=0, timeout=10)

    with pytest.raises(openai.AuthenticationError) as refused:
        client.models.list()

    assert refused.value.body["code"] == "invalid_api_key"


def test_entitlements_decide_the_list(sdk, catalog) -> None:
    plan = entitlement_services.plan_save(plan=Plan(name="Small"), actor="staff:test", system_models=[])
    entitlement_services.entitlement_save(organization_id="org-a", actor="staff:test", mode="plan", plan=plan)

    assert [model.id for model in sdk.models.list().data] == [], "its user model's base is no longer entitled"


def test_the_error_shape_is_openais_without_the_sdk(admin_client: APIClient, catalog) -> None:
    response = admin_client.get("/openai/v1/models?limit=5")

    assert response.status_code == 400
    error = {"message": "Invalid input: limit.", "type": "invalid_request_error", "param": "limit", "code": "invalid"}
    assert response.json() == {"error": error}


def test_each_listed_model_is_what_its_own_read_says(admin_client: APIClient, catalog) -> None:
    """The list is read as plain rows and the single model as an instance: each entry must be the
    single read's body without its prompt, inherited values included."""
    UserModelFactory(parent=catalog["usable"], slug="inherits", max_tokens=None, description="")

    listed = admin_client.get("/openai/v1/models").json()["data"]

    assert [entry["id"] for entry in listed] == ["acme-support", "gpt-4.1", "inherits"]
    for entry in listed:
        single = admin_client.get(f"/openai/v1/models/{entry['id']}").json()
        assert {name: value for name, value in single.items() if not name.startswith("system_prompt")} == entry
    inherited = next(entry for entry in listed if entry["id"] == "inherits")
    assert inherited["max_tokens"] == catalog["usable"].max_tokens
