"""POST /v1/models/{id}/clone (issue 17): a new user model copied from a user model, or built on a
system model with its limits; checked as a create is, recorded as a create is."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import orjson
import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from core.models import AuditEvent, IdempotencyRecord
from models_registry import entitlement_services, lifecycle, limits, services
from models_registry.entitlements import Plan
from models_registry.models import AIModel
from tests.api_cases import assert_etag
from tests.assertions import assert_error_shape
from tests.factories import (
    CompositionFactory,
    GlobalCompositionFactory,
    GlobalParticleFactory,
    ParticleFactory,
    SystemModelFactory,
    UserModelFactory,
)
from tests.models_registry.helpers import (
    ALWAYS_INHERITED,
    MODELS_URL,
    RESPONSE_FIELDS,
    assert_refused,
    create,
    detail_url,
    field_errors,
    resolved_url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

STAFF = "staff:curator"
ADMIN_ACTOR = "member:member-test-org-a"
TODAY = lifecycle.today()


def clone_url(pk: Any) -> str:
    return f"{MODELS_URL}/{pk}/clone"


def clone(client: APIClient, source: AIModel | str, **body: Any):
    pk = source.pk if isinstance(source, AIModel) else source
    return client.post(clone_url(pk), body, format="json")


def user_models() -> int:
    return AIModel.objects.filter(is_system=False).count()


@pytest.fixture
def configured(parent: AIModel) -> AIModel:
    """A user model that overrides everything a user model can: a clone copies all of it."""
    composition = CompositionFactory(organization_id="org-a", particles=[ParticleFactory(content="You are terse.")])
    return UserModelFactory(
        parent=parent,
        name="Support Bot",
        slug="support-bot",
        description="Answers support tickets",
        context_window=32_768,
        max_tokens=1_000,
        supports_streaming=False,
        is_enabled=False,
        system_prompt_composition=composition,
        system_prompt_override="",
    )


# --- What a clone is -------------------------------------------------------------------------------


def test_a_clone_of_a_user_model_is_201_with_its_location_etag_and_every_override(
    admin_client: APIClient, configured: AIModel, parent: AIModel
) -> None:
    response = clone(admin_client, configured, name="Support Bot (staging)")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == RESPONSE_FIELDS
    assert body["id"] != str(configured.pk)
    assert urlparse(response["Location"]).path == detail_url(body["id"])
    assert assert_etag(response) == assert_etag(admin_client.get(detail_url(body["id"])))
    assert body["name"] == "Support Bot (staging)"
    assert body["slug"] == "support-bot-staging"
    assert (body["isSystem"], body["parentId"]) == (False, str(parent.pk))
    copied = ("description", "contextWindow", "maxTokens", "supportsStreaming", "isEnabled")
    source = admin_client.get(detail_url(configured.pk)).json()
    assert {field: body[field] for field in copied} == {field: source[field] for field in copied}
    assert body["isEnabled"] is False, "a disabled model's clone is disabled too"
    assert body["systemPromptCompositionId"] == str(configured.system_prompt_composition_id)
    model = AIModel.objects.get(pk=body["id"])
    assert (model.organization_id, model.max_tokens, model.description) == ("org-a", 1_000, "Answers support tickets")


def test_a_clone_of_a_user_model_copies_its_override_and_resolves_to_the_same_prompt(
    admin_client: APIClient, parent: AIModel
) -> None:
    source = UserModelFactory(parent=parent, system_prompt_override="You are a helpful assistant.")

    body = clone(admin_client, source, name="Overridden copy").json()

    resolved = admin_client.get(resolved_url(body["id"])).json()
    assert body["systemPromptOverride"] == "You are a helpful assistant."
    assert (resolved["systemPrompt"], resolved["systemPromptSource"]) == ("You are a helpful assistant.", "override")
    assert resolved["isUsable"] is True


def test_the_clone_of_a_model_with_a_composition_resolves_to_the_same_prompt(
    admin_client: APIClient, configured: AIModel
) -> None:
    body = clone(admin_client, configured, name="Same prompt").json()

    ours, theirs = (admin_client.get(resolved_url(pk)).json() for pk in (body["id"], configured.pk))
    assert ours["systemPromptSource"] == theirs["systemPromptSource"] == "composition"
    assert ours["systemPrompt"] == theirs["systemPrompt"] == "You are terse."


def test_the_source_is_left_as_it_was(admin_client: APIClient, configured: AIModel) -> None:
    before = AIModel.objects.values().get(pk=configured.pk)

    assert clone(admin_client, configured, name="Copy").status_code == 201

    assert AIModel.objects.values().get(pk=configured.pk) == before


def test_a_clone_of_a_system_model_is_a_user_model_with_its_limits(
    admin_client: APIClient, non_streaming_parent: AIModel
) -> None:
    response = clone(admin_client, non_streaming_parent, name="On the base")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["isSystem"], body["parentId"], body["isEnabled"]) == (False, str(non_streaming_parent.pk), True)
    assert body["contextWindow"] == non_streaming_parent.context_window
    assert body["maxTokens"] == non_streaming_parent.max_tokens
    assert body["supportsStreaming"] is False
    assert set(body["inheritedFields"]) == ALWAYS_INHERITED | {"maxTokens", "description"}
    model = AIModel.objects.get(pk=body["id"])
    assert (model.max_tokens, model.description) == (None, ""), "inherited, so they follow the system model"


def test_a_clone_of_a_system_model_takes_its_global_system_prompt(admin_client: APIClient) -> None:
    composition = GlobalCompositionFactory(particles=[GlobalParticleFactory(content="You are careful.")])
    base = SystemModelFactory(system_prompt_composition=composition)

    body = clone(admin_client, base, name="Careful").json()

    resolved = admin_client.get(resolved_url(body["id"])).json()
    assert body["systemPromptCompositionId"] == str(composition.pk)
    assert (resolved["systemPrompt"], resolved["systemPromptSource"]) == ("You are careful.", "composition")


def test_the_source_can_be_named_by_its_slug(admin_client: APIClient, configured: AIModel, parent: AIModel) -> None:
    by_user_slug = clone(admin_client, "support-bot", name="From the user slug")
    by_system_slug = clone(admin_client, parent.slug, name="From the system slug")

    assert by_user_slug.status_code == 201, by_user_slug.content
    assert by_user_slug.json()["contextWindow"] == configured.context_window
    assert by_system_slug.status_code == 201, by_system_slug.content
    assert by_system_slug.json()["contextWindow"] == parent.context_window


# --- The new name and slug -------------------------------------------------------------------------


def test_name_is_required(admin_client: APIClient, configured: AIModel) -> None:
    assert set(field_errors(clone(admin_client, configured))) == {"name"}
    assert set(field_errors(clone(admin_client, configured, slug="no-name"))) == {"name"}
    assert user_models() == 1


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("", None),
        ("   ", None),
        ("n" * limits.NAME_MIN_LENGTH, "n" * limits.NAME_MIN_LENGTH),
        ("n" * limits.NAME_MAX_LENGTH, "n" * limits.NAME_MAX_LENGTH),
        ("  " + "n" * limits.NAME_MAX_LENGTH + "  ", "n" * limits.NAME_MAX_LENGTH),
        ("n" * (limits.NAME_MAX_LENGTH + 1), None),
    ],
    ids=["min_minus_1", "blank", "min", "max", "max_after_trimming", "max_plus_1"],
)
def test_name_bounds_are_those_of_create(
    admin_client: APIClient, configured: AIModel, name: str, stored: str | None
) -> None:
    response = clone(admin_client, configured, name=name)

    if stored is None:
        assert_refused(response, "name")
        assert user_models() == 1
    else:
        assert response.status_code == 201, response.content
        assert response.json()["name"] == stored


@pytest.mark.parametrize(
    ("slug", "valid"),
    [
        ("", False),
        ("a" * limits.SLUG_MIN_LENGTH, True),
        ("a" * limits.SLUG_MAX_LENGTH, True),
        ("a" * (limits.SLUG_MAX_LENGTH + 1), False),
        ("acme.support_v2-eu", True),
        ("Acme", False),
        ("-acme", False),
        ("deprecations", False),
        (None, False),
        (7, False),
    ],
    ids=[
        "min_minus_1",
        "min",
        "max",
        "max_plus_1",
        "punctuation",
        "uppercase",
        "leading-dash",
        "reserved",
        "null",
        "int",
    ],
)
def test_a_given_slug_is_checked_as_on_create(admin_client: APIClient, configured: AIModel, slug: Any, valid: bool):
    response = clone(admin_client, configured, name="Given", slug=slug)

    if valid:
        assert response.status_code == 201, response.content
        assert response.json()["slug"] == slug
        assert admin_client.get(detail_url(slug)).json()["id"] == response.json()["id"]
        return
    assert set(field_errors(response)) == {"slug"}
    assert not AIModel.objects.filter(name="Given").exists()


def test_a_taken_name_is_the_400_create_gives(admin_client: APIClient, configured: AIModel, parent: AIModel) -> None:
    by_create = create(admin_client, parentId=str(parent.pk), name="SUPPORT BOT")
    by_clone = clone(admin_client, configured, name="support bot")

    assert field_errors(by_clone) == field_errors(by_create)
    assert set(field_errors(by_clone)) == {"name"}
    assert user_models() == 1


def test_the_same_name_is_free_in_another_organization(
    other_org_client: APIClient, configured: AIModel, parent: AIModel
) -> None:
    response = clone(other_org_client, parent, name=configured.name)

    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "support-bot"


def test_a_taken_slug_is_the_400_create_gives(admin_client: APIClient, configured: AIModel, parent: AIModel) -> None:
    by_create = create(admin_client, parentId=str(parent.pk), name="Another", slug="support-bot")
    by_clone = clone(admin_client, configured, name="Another", slug="support-bot")

    assert (
        field_errors(by_clone)
        == field_errors(by_create)
        == {"slug": ["A model with this slug already exists in your organization."]}
    )


def test_a_slug_made_from_a_taken_name_slug_takes_the_next_free_one(
    admin_client: APIClient, configured: AIModel
) -> None:
    first = clone(admin_client, configured, name="Support-Bot!")
    second = clone(admin_client, configured, name="Support Bot!!")

    assert [first.json()["slug"], second.json()["slug"]] == ["support-bot-2", "support-bot-3"]


# --- Strict input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("parentId", str(uuid.uuid4())), ("contextWindow", 8192), ("isEnabled", True), ("isSystem", True), ("nam", "x")],
)
def test_a_field_other_than_name_and_slug_is_refused_by_name(
    admin_client: APIClient, configured: AIModel, field: str, value: Any
) -> None:
    response = clone(admin_client, configured, name="Extra", **{field: value})

    assert field_errors(response) == {field: ["Unknown field."]}
    assert user_models() == 1


@pytest.mark.parametrize("name", [5, True, ["x"], {"x": 1}, None], ids=repr)
def test_a_name_that_is_not_a_string_is_refused(admin_client: APIClient, configured: AIModel, name: Any) -> None:
    assert set(field_errors(clone(admin_client, configured, name=name))) == {"name"}


def test_an_unknown_query_parameter_is_refused(admin_client: APIClient, configured: AIModel) -> None:
    response = admin_client.post(f"{clone_url(configured.pk)}?dryRun=true", {"name": "Q"}, format="json")

    assert field_errors(response) == {"dryRun": ["Unknown query parameter."]}
    assert user_models() == 1


@pytest.mark.parametrize("body", [b"[]", b"null", b"{"], ids=["list", "null", "malformed"])
def test_a_body_that_is_not_an_object_is_a_400(admin_client: APIClient, configured: AIModel, body: bytes) -> None:
    response = admin_client.post(clone_url(configured.pk), body, content_type="application/json")

    assert_error_shape(response, 400)
    assert user_models() == 1


def test_a_body_that_is_not_json_is_a_415(admin_client: APIClient, configured: AIModel) -> None:
    response = admin_client.post(clone_url(configured.pk), "name=x", content_type="application/x-www-form-urlencoded")

    assert_error_shape(response, 415)


# --- What may be cloned ----------------------------------------------------------------------------


def test_another_organizations_user_model_is_not_found(admin_client: APIClient, parent: AIModel) -> None:
    foreign = UserModelFactory(parent=parent, organization_id="org-b", name="Org B Secret")

    foreign_response = clone(admin_client, foreign, name="Borrowed")
    unknown_response = clone(admin_client, uuid.uuid4(), name="Borrowed")

    assert assert_error_shape(foreign_response, 404) == assert_error_shape(unknown_response, 404)
    assert b"Org B Secret" not in foreign_response.content
    assert not AIModel.objects.filter(organization_id="org-a").exists()


def test_a_system_model_outside_the_entitlement_is_not_found(admin_client: APIClient) -> None:
    entitled, other = SystemModelFactory(), SystemModelFactory()
    plan = entitlement_services.plan_save(plan=Plan(name="Starter"), actor=STAFF, system_models=[entitled])
    entitlement_services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan", plan=plan)

    assert_error_shape(clone(admin_client, other, name="Not ours"), 404)
    assert clone(admin_client, entitled, name="Ours").status_code == 201
    assert user_models() == 1


def test_a_disabled_system_model_is_not_found(admin_client: APIClient) -> None:
    assert_error_shape(clone(admin_client, SystemModelFactory(is_enabled=False), name="Off"), 404)


def test_a_user_model_whose_base_is_disabled_is_the_400_create_gives(
    admin_client: APIClient, configured: AIModel, parent: AIModel
) -> None:
    AIModel.objects.filter(pk=parent.pk).update(is_enabled=False)

    by_create = create(admin_client, parentId=str(parent.pk), name="On a disabled base")
    by_clone = clone(admin_client, configured, name="On a disabled base")

    assert field_errors(by_clone) == field_errors(by_create)
    assert set(field_errors(by_clone)) == {"parentId"}
    assert user_models() == 1


@pytest.mark.parametrize("status", ["deprecated", "retired"])
def test_a_closed_base_takes_no_clone(admin_client: APIClient, status: str) -> None:
    successor = SystemModelFactory(name="Next Base")
    base = SystemModelFactory(
        name="Old Base",
        deprecated_at=TODAY - timedelta(days=1),
        retires_at=TODAY if status == "retired" else None,
        successor=successor,
    )
    child = UserModelFactory(parent=base)

    for source in (child, base):
        messages = assert_refused(clone(admin_client, source, name=f"Copy of {source.name}"), "parentId")
        assert any("Next Base" in message for message in messages), messages
    assert user_models() == 1


def test_a_user_model_whose_base_is_no_longer_entitled_is_a_400_naming_parent_id(
    admin_client: APIClient, configured: AIModel
) -> None:
    plan = entitlement_services.plan_save(plan=Plan(name="Starter"), actor=STAFF, system_models=[SystemModelFactory()])
    entitlement_services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan", plan=plan)

    response = clone(admin_client, configured, name="Not entitled")

    assert field_errors(response) == {"parentId": [f"No system model with id {configured.parent_id}."]}
    assert user_models() == 1


@pytest.mark.parametrize(("quota", "allowed"), [(1, False), (2, True)])
def test_the_quota_counts_clones(admin_client: APIClient, configured: AIModel, quota: int, allowed: bool) -> None:
    entitlement_services.entitlement_save(organization_id="org-a", actor=STAFF, max_user_models=quota)

    response = clone(admin_client, configured, name="One more")

    if allowed:
        assert response.status_code == 201, response.content
        return
    assert f"quota of {quota} user models" in assert_error_shape(response, 409)["detail"]
    assert user_models() == 1


# --- Who may clone ---------------------------------------------------------------------------------


def test_a_member_without_a_write_role_cannot_clone(member_client: APIClient, configured: AIModel) -> None:
    response = clone(member_client, configured, name="Not allowed")

    assert "roles" in assert_error_shape(response, 403)["detail"]
    assert user_models() == 1


@pytest.mark.parametrize(("scopes", "status"), [("read:models", 403), ("write:models", 201), ("write:*", 201)])
def test_an_m2m_client_needs_a_write_scope(m2m_client_for, parent: AIModel, scopes: str, status: int) -> None:
    response = clone(m2m_client_for(scopes), parent, name=f"By {scopes}")

    assert response.status_code == status, response.content


def test_anonymous_is_401(api_client: APIClient, parent: AIModel) -> None:
    response = clone(api_client, parent, name="Anonymous")

    assert_error_shape(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- Recorded as a create --------------------------------------------------------------------------


def test_a_clone_is_a_created_version_and_audit_event_naming_its_source(
    admin_client: APIClient, configured: AIModel
) -> None:
    response = clone(admin_client, configured, name="Audited")

    model = AIModel.objects.get(pk=response.json()["id"])
    (version,) = model.history.all()
    assert (version.history_type, version.history_actor) == ("+", ADMIN_ACTOR)
    assert version.history_change_reason == f"Cloned from Support Bot ({configured.pk})"
    (event,) = AuditEvent.objects.filter(object_id=model.pk)
    assert (event.action, event.actor, event.organization_id) == ("created", ADMIN_ACTOR, "org-a")
    assert event.request_id == response["X-Request-ID"]
    assert {"name", "slug", "parentId", "contextWindow", "maxTokens"} <= set(event.changed_fields)


def test_the_clones_versions_start_with_the_clone(admin_client: APIClient, configured: AIModel) -> None:
    body = clone(admin_client, configured, name="Versioned").json()

    versions = admin_client.get(f"{detail_url(body['id'])}/versions").json()["results"]

    assert [(v["number"], v["changeType"], v["changeReason"]) for v in versions] == [
        (1, "created", f"Cloned from Support Bot ({configured.pk})")
    ]


def test_a_retry_with_the_same_idempotency_key_creates_nothing_new(
    admin_client: APIClient, configured: AIModel
) -> None:
    key = str(uuid.uuid4())

    first = admin_client.post(clone_url(configured.pk), {"name": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    replay = admin_client.post(clone_url(configured.pk), {"name": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    other = admin_client.post(clone_url(configured.pk), {"name": "Twice"}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201, first.content
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    assert orjson.loads(replay.content) == first.json()
    assert (replay["Location"], replay["ETag"]) == (first["Location"], first["ETag"])
    assert_error_shape(other, 422)
    assert user_models() == 2
    assert AuditEvent.objects.filter(action="created", object_id=first.json()["id"]).count() == 1
    assert IdempotencyRecord.objects.count() == 1


# --- The service -----------------------------------------------------------------------------------


def test_the_service_refuses_another_organizations_source(configured: AIModel) -> None:
    with pytest.raises(ValidationError):
        services.user_model_clone(source=configured, organization_id="org-b", actor=STAFF, name="Borrowed")

    assert user_models() == 1


def test_the_service_clones_outside_a_request(configured: AIModel) -> None:
    made = services.user_model_clone(source=configured, organization_id="org-a", actor=STAFF, name="From a shell")

    assert (made.slug, made.parent_id, made.context_window) == ("from-a-shell", configured.parent_id, 32_768)
    assert made.history.get().history_actor == STAFF


# --- The OpenAPI document --------------------------------------------------------------------------


@pytest.fixture
def clone_operation(api_client: APIClient) -> dict[str, Any]:
    document = orjson.loads(api_client.get("/api/schema/?format=json").content)
    return document, document["paths"]["/v1/models/{id}/clone"]["post"]


def test_the_document_describes_the_clone_with_examples_and_errors(clone_operation) -> None:
    _, operation = clone_operation

    assert operation["operationId"] == "models_clone"
    assert operation["summary"] and operation["description"]
    request = operation["requestBody"]["content"]["application/json"]
    assert request["schema"] == {"$ref": "#/components/schemas/ModelCloneRequest"}
    assert {example["value"]["name"] for example in request["examples"].values()} >= {"Acme Support EU"}
    created = operation["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/AIModel"}
    (example,) = created["content"]["application/json"]["examples"].values()
    assert set(example["value"]) == RESPONSE_FIELDS
    assert {"Location", "ETag"} <= set(created["headers"])
    assert "Idempotency-Key" in {parameter["name"] for parameter in operation["parameters"]}
    assert {"400", "401", "403", "404", "409", "415", "422", "429"} <= set(operation["responses"])


def test_the_document_states_the_bounds_of_limits(clone_operation) -> None:
    document, _ = clone_operation
    component = document["components"]["schemas"]["ModelCloneRequest"]
    properties = component["properties"]

    assert (properties["name"]["minLength"], properties["name"]["maxLength"]) == (
        limits.NAME_MIN_LENGTH,
        limits.NAME_MAX_LENGTH,
    )
    assert (properties["slug"]["minLength"], properties["slug"]["maxLength"]) == (
        limits.SLUG_MIN_LENGTH,
        limits.SLUG_MAX_LENGTH,
    )
    assert component["required"] == ["name"]
    assert component["additionalProperties"] is False
