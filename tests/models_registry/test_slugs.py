"""Slugs (issue 17): a stable readable id for every model, made from the name when not given,
unique in its scope, usable instead of the UUID by `GET /v1/models/{id}` and `/resolved`."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.models import AuditEvent
from models_registry import limits
from models_registry.models import AIModel
from tests.assertions import assert_error_shape
from tests.factories import SystemModelFactory, UserModelFactory
from tests.models_registry.helpers import MODELS_URL
from tests.models_registry.seed_helpers import entry, seed, seed_error, write

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


@pytest.fixture
def parent() -> AIModel:
    return SystemModelFactory(provider_model_id="gpt-4.1", slug="gpt-4.1")


def create(client: APIClient, parent: AIModel, **body):
    return client.post(MODELS_URL, {"parentId": str(parent.pk), **body}, format="json")


def test_a_slug_is_made_from_the_name_and_made_unique_in_the_organization(admin_client, other_org_client, parent):
    first = create(admin_client, parent, name="Support Bot")
    second = create(admin_client, parent, name="Support-Bot!")
    theirs = create(other_org_client, parent, name="Support Bot")

    assert [r.json()["slug"] for r in (first, second, theirs)] == ["support-bot", "support-bot-2", "support-bot"]


def test_a_slug_found_taken_on_save_leaves_one_model_one_version_and_one_event(admin_client, parent):
    create(admin_client, parent, name="Support Bot")

    response = create(admin_client, parent, name="Support-Bot!")  # its first slug is taken: saved again

    assert response.status_code == 201, response.content
    model = AIModel.objects.get(pk=response.json()["id"])
    assert model.slug == "support-bot-2"
    assert model.history.count() == 1
    assert list(AuditEvent.objects.filter(object_id=model.pk).values_list("action", flat=True)) == ["created"]


@pytest.mark.parametrize(
    ("slug", "valid"),
    [
        ("a", True),
        ("a" * limits.SLUG_MAX_LENGTH, True),
        ("a" * (limits.SLUG_MAX_LENGTH + 1), False),
        ("", False),
        ("acme.support_v2-eu", True),
        ("Acme", False),
        ("-acme", False),
        ("acme support", False),
        ("deprecations", False),
    ],
    ids=["1", "100", "101", "empty", "punctuation", "uppercase", "leading-dash", "space", "reserved"],
)
def test_a_given_slug_is_checked(admin_client, parent, slug: str, valid: bool):
    response = create(admin_client, parent, name="Given", slug=slug)

    if valid:
        assert response.status_code == 201, response.content
        assert response.json()["slug"] == slug
        return
    assert "slug" in assert_error_shape(response, 400)["errors"]
    assert not AIModel.objects.filter(name="Given").exists()


def test_a_taken_slug_is_a_400_in_the_organization_only(admin_client, other_org_client, parent):
    assert create(admin_client, parent, name="One", slug="acme").status_code == 201

    ours = create(admin_client, parent, name="Two", slug="acme")
    theirs = create(other_org_client, parent, name="Two", slug="acme")

    assert assert_error_shape(ours, 400)["errors"] == {
        "slug": ["A model with this slug already exists in your organization."]
    }
    assert theirs.status_code == 201


def test_reads_accept_the_slug_own_models_first_then_system_models(admin_client, other_org_client, parent):
    own = UserModelFactory(parent=parent, slug="acme-support", name="Acme Support")
    shadowing = UserModelFactory(parent=parent, slug="gpt-4.1", name="Our GPT")

    assert admin_client.get(f"{MODELS_URL}/acme-support").json()["id"] == str(own.pk)
    assert admin_client.get(f"{MODELS_URL}/acme-support/resolved").json()["id"] == str(own.pk)
    assert admin_client.get(f"{MODELS_URL}/gpt-4.1").json()["id"] == str(shadowing.pk), "own model first"
    assert other_org_client.get(f"{MODELS_URL}/gpt-4.1").json()["id"] == str(parent.pk), "then the system model"
    assert_error_shape(other_org_client.get(f"{MODELS_URL}/acme-support"), 404)
    assert_error_shape(admin_client.get(f"{MODELS_URL}/no-such-model"), 404)


def test_after_a_change_the_old_slug_no_longer_resolves(admin_client, parent):
    model = UserModelFactory(parent=parent, slug="old-name")

    changed = admin_client.patch(f"{MODELS_URL}/old-name", {"slug": "new-name"}, format="json")

    assert changed.status_code == 200, changed.content
    assert changed.json()["slug"] == "new-name"
    assert admin_client.get(f"{MODELS_URL}/new-name").json()["id"] == str(model.pk)
    assert_error_shape(admin_client.get(f"{MODELS_URL}/old-name"), 404)
    assert create(admin_client, parent, name="Reuser", slug="old-name").status_code == 201, "the old slug is free"


def test_a_name_change_keeps_the_slug(admin_client, parent):
    model = UserModelFactory(parent=parent, slug="stable")

    admin_client.patch(f"{MODELS_URL}/{model.pk}", {"name": "Another Name"}, format="json")

    model.refresh_from_db()
    assert model.slug == "stable"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("model", "crowd"),
    [
        pytest.param(
            lambda: AIModel(is_system=False, organization_id="org-a", name="Support-Bot!"),
            lambda parent, n: UserModelFactory.build(parent=parent, name=f"Other {n}", slug=f"other-{n}"),
            id="user",
        ),
        pytest.param(
            lambda: AIModel(is_system=True, provider_model_id="gpt-4.1", name="GPT 4.1!"),
            lambda parent, n: SystemModelFactory.build(slug=f"other-{n}"),
            id="system",
        ),
    ],
)
def test_the_read_of_the_taken_slugs_is_a_range_on_an_index_on_postgresql(parent, model, crowd) -> None:
    """`slug LIKE 'base%'` under any collation: a range on an index's slug (migration 0011), not
    a filter over every row of the scope."""
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL: its operator classes and plans; this run uses {connection.vendor}")
    UserModelFactory(parent=parent, name="Support Bot", slug="support-bot")
    AIModel.objects.bulk_create(crowd(parent, n) for n in range(300))  # a scope of many models, few matching
    with CaptureQueriesContext(connection) as queries:
        assert model().ensure_slug() in ("support-bot-2", "gpt-4.1-2")
    (read,) = queries.captured_queries

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE models_registry_aimodel")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table of a few pages is scanned whatever its indexes
        cursor.execute(f"EXPLAIN {read['sql']}")
        plan = [line for (line,) in cursor.fetchall()]

    conditions = [line for line in plan if "Index Cond:" in line]
    assert any("(slug)::text ~>=~" in line or "(slug)::text >=" in line for line in conditions), plan


# --- System models: the catalog ------------------------------------------------------------------


def test_system_model_slugs_default_to_the_provider_model_id() -> None:
    seed()

    assert AIModel.objects.get(provider_model_id="gpt-4.1").slug == "gpt-4.1"
    assert AIModel.objects.get(provider_model_id="claude-sonnet-4-20250514").slug == "claude-sonnet-4-20250514"


def test_the_catalog_can_give_a_slug_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    catalog = write(tmp_path, [entry(1, slug="house-model"), entry(2)])

    seed("--file", str(catalog))
    second = seed("--file", str(catalog))

    assert AIModel.objects.get(provider_model_id="model-1").slug == "house-model"
    assert AIModel.objects.get(provider_model_id="model-2").slug == "model-2"
    assert "unchanged 2" in second


def test_an_existing_rows_slug_is_kept_when_the_catalog_gives_none(tmp_path: Path) -> None:
    catalog = write(tmp_path, [entry(1)])
    seed("--file", str(catalog))
    AIModel.objects.filter(provider_model_id="model-1").update(slug="renamed-by-staff")

    seed("--file", str(catalog))

    assert AIModel.objects.get(provider_model_id="model-1").slug == "renamed-by-staff"


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([entry(1, slug="same"), entry(2, slug="same")], "slug: 'same' is also the slug of entry 1"),
        ([entry(1, slug="Not A Slug")], "slug: Must be 1 to 100 characters"),
    ],
    ids=["duplicate", "shape"],
)
def test_a_bad_catalog_slug_writes_nothing(tmp_path: Path, entries, expected: str) -> None:
    assert expected in seed_error(write(tmp_path, entries))
    assert not AIModel.objects.filter(provider="provider-a").exists()


def test_the_documented_id_pattern_refuses_the_reserved_words() -> None:
    """schemathesis sent GET /v1/models/{id} with id "deprecations", which the document allowed."""
    import re

    from models_registry.slugs import RESERVED, SLUG_URL_PATTERN

    for word in sorted(RESERVED):
        assert not re.fullmatch(SLUG_URL_PATTERN, word)
    assert re.fullmatch(SLUG_URL_PATTERN, "deprecations-2")
