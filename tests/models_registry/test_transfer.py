"""`GET /v1/export` and `POST /v1/import` (issue 17, part 4): an organization's configuration as one
document, references by slug and name, applied all or nothing through the API's own rules."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.models import AuditEvent
from models_registry import entitlement_services, limits
from models_registry.models import AIModel
from prompts.models import PromptComposition, PromptCompositionParticle, PromptParticle
from tests.assertions import assert_error_shape
from tests.factories import (
    CompositionFactory,
    GlobalCompositionFactory,
    GlobalParticleFactory,
    ParticleFactory,
    SystemModelFactory,
    UserModelFactory,
)
from tests.models_registry.helpers import resolved_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

EXPORT_URL = "/v1/export"
IMPORT_URL = "/v1/import"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# What differs between an organization's /resolved and its copy's: ids, times, and the composition's id.
NOT_COMPARED = {"id", "createdAt", "updatedAt", "systemPromptCompositionId"}


@pytest.fixture
def base() -> AIModel:
    return SystemModelFactory(slug="base-large", name="Base Large", context_window=128_000, max_tokens=16_384)


@pytest.fixture
def configuration(base: AIModel) -> dict[str, Any]:
    """Organization A's configuration: own and global particles and compositions, models using each."""
    role = ParticleFactory(name="Support agent", kind="role", content="You are Acme's support agent.")
    tone = ParticleFactory(name="Friendly tone", kind="tone", content="Be warm and concise.")
    safety = GlobalParticleFactory(name="Safety", kind="guardrails", content="Never give medical advice.")
    support = CompositionFactory(name="Support", description="Support assistant", particles=[role, safety, tone])
    terse = CompositionFactory(name="Terse", particles=[tone])
    house = GlobalCompositionFactory(name="House style", particles=[safety])
    models = [
        UserModelFactory(parent=base, slug="acme-support", name="Acme Support", system_prompt_composition=support),
        UserModelFactory(
            parent=base, slug="acme-terse", name="Acme Terse", max_tokens=1_000, system_prompt_composition=terse
        ),
        UserModelFactory(parent=base, slug="acme-house", name="Acme House", system_prompt_composition=house),
        UserModelFactory(
            parent=base,
            slug="acme-raw",
            name="Acme Raw",
            description="Override only",
            context_window=32_768,
            supports_streaming=False,
            is_enabled=False,
            system_prompt_override="You are terse.\n",
        ),
    ]
    return {"particles": [role, tone], "compositions": [support, terse], "models": models}


def export(client: APIClient) -> dict[str, Any]:
    response = client.get(EXPORT_URL)
    assert response.status_code == 200, response.content
    return response.json()


def do_import(client: APIClient, document: Any, *, dry_run: str | None = None, **headers: Any):
    url = IMPORT_URL if dry_run is None else f"{IMPORT_URL}?{urlencode({'dryRun': dry_run})}"
    return client.post(url, document, format="json", **headers)


def imported(client: APIClient, document: Any, **kwargs: Any) -> dict[str, Any]:
    response = do_import(client, document, **kwargs)
    assert response.status_code == 200, response.content
    return response.json()


def errors_of(response) -> dict[str, list[str]]:
    body = assert_error_shape(response, 400)
    assert body["code"] == "invalid"
    return body["errors"]


def results(report: dict[str, Any]) -> dict[str, str]:
    return {item["path"]: item["result"] for item in report["objects"]}


def document(**sections: Any) -> dict[str, Any]:
    return {"formatVersion": 1, **sections}


def model_item(slug: str = "new-model", parent: str = "base-large", **fields: Any) -> dict[str, Any]:
    return {"slug": slug, "name": fields.pop("name", slug.replace("-", " ").title()), "parent": parent, **fields}


def row_counts() -> dict[str, int]:
    return {
        "models": AIModel.objects.count(),
        "model versions": AIModel.history.count(),
        "particles": PromptParticle.objects.count(),
        "particle versions": PromptParticle.history.count(),
        "compositions": PromptComposition.objects.count(),
        "composition versions": PromptComposition.history.count(),
        "items": PromptCompositionParticle.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


# --- Export ---------------------------------------------------------------------------------------


def test_export_is_the_organizations_configuration_by_slug_and_name_never_by_id(member_client, configuration):
    UserModelFactory(organization_id="org-b", slug="b-secret", name="B Secret")
    ParticleFactory(organization_id="org-b", name="B particle")
    CompositionFactory(organization_id="org-b", name="B composition")

    response = member_client.get(EXPORT_URL)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["formatVersion"] == 1
    assert body["organization"] == {"id": "org-a", "slug": "org-a"}
    assert [p["name"] for p in body["particles"]] == ["Friendly tone", "Support agent"]  # by name
    assert [c["name"] for c in body["compositions"]] == ["Support", "Terse"]
    assert [m["slug"] for m in body["models"]] == ["acme-house", "acme-raw", "acme-support", "acme-terse"]
    assert body["compositions"][0] == {
        "name": "Support",
        "description": "Support assistant",
        "particles": [
            {"scope": "organization", "name": "Support agent"},
            {"scope": "global", "name": "Safety"},
            {"scope": "organization", "name": "Friendly tone"},
        ],
    }
    assert body["models"][0]["systemPromptComposition"] == {"scope": "global", "name": "House style"}
    assert body["models"][1] == {
        "slug": "acme-raw",
        "name": "Acme Raw",
        "description": "Override only",
        "parent": "base-large",
        "contextWindow": 32_768,
        "maxTokens": None,
        "supportsStreaming": False,
        "isEnabled": False,
        "systemPromptComposition": None,
        "systemPromptOverride": "You are terse.\n",
    }
    # Never a database id, and nothing of another organization (nor global objects themselves).
    assert not UUID.search(response.content.decode())
    assert b"B Secret" not in response.content and b"B particle" not in response.content
    assert "Never give medical advice." not in response.content.decode()


def test_the_same_configuration_exports_to_the_same_bytes_but_for_exported_at(admin_client, configuration):
    first, second = admin_client.get(EXPORT_URL), admin_client.get(EXPORT_URL)

    def without_time(content: bytes) -> bytes:
        return re.sub(rb'"exportedAt":"[^"]*"', b"", content)

    assert without_time(first.content) == without_time(second.content)
    assert b'"exportedAt":"' in first.content


def test_an_empty_organization_exports_empty_lists(other_org_client, configuration):
    body = export(other_org_client)

    assert (body["particles"], body["compositions"], body["models"]) == ([], [], [])


def test_particles_sharing_a_name_cannot_be_exported_and_the_409_names_them(admin_client, configuration):
    twin = ParticleFactory(name="Friendly tone", content="Another text.")

    body = assert_error_shape(admin_client.get(EXPORT_URL), 409)

    assert "'Friendly tone' (2)" in body["detail"]
    assert {ref["id"] for ref in body["references"]} == {str(twin.pk), str(configuration["particles"][1].pk)}


def test_an_export_no_import_could_take_is_a_409_saying_why(admin_client, configuration, settings, monkeypatch):
    """Whatever an export answers, an import takes: a list over the import's bound, or a document
    over the request size limit, is refused at export, not discovered at import."""
    document = admin_client.get(EXPORT_URL)
    assert document.status_code == 200
    lengths = {name: len(document.json()[name]) for name in ("particles", "compositions", "models")}
    longest = max(lengths, key=lengths.get)

    monkeypatch.setattr(limits, "TRANSFER_MAX_ITEMS", lengths[longest])  # at the bound: exported
    assert admin_client.get(EXPORT_URL).status_code == 200
    monkeypatch.setattr(limits, "TRANSFER_MAX_ITEMS", lengths[longest] - 1)  # one over: refused, naming the list
    body = assert_error_shape(admin_client.get(EXPORT_URL), 409)
    assert f"{lengths[longest]} {longest}" in body["detail"]
    monkeypatch.undo()

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(document.content) - 100  # smaller than the document
    body = assert_error_shape(admin_client.get(EXPORT_URL), 409)
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in body["detail"]


def test_an_export_over_the_bound_is_refused_from_its_counts_before_any_row_is_read(
    admin_client, configuration, monkeypatch
):
    """An organization far over the bound (100,000 models) gets its 409 from three counts, not
    after reading every model, particle and composition it has."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin_client.get(EXPORT_URL)  # the organization's first request records it
    monkeypatch.setattr(limits, "TRANSFER_MAX_ITEMS", 0)  # every list it has is over
    with CaptureQueriesContext(connection) as queries:
        body = assert_error_shape(admin_client.get(EXPORT_URL), 409)

    assert "an import takes at most 0 of each" in body["detail"]
    tables = ("models_registry_aimodel", "prompts_promptparticle", "prompts_promptcomposition")
    touching = [query["sql"] for query in queries if any(table in query["sql"] for table in tables)]
    assert len(touching) == 3 and all("COUNT(*)" in sql for sql in touching), touching


def test_export_needs_read_access_to_models_and_prompts(m2m_client_for, configuration):
    assert_error_shape(m2m_client_for("read:models").get(EXPORT_URL), 403)
    assert_error_shape(m2m_client_for("read:prompts").get(EXPORT_URL), 403)
    assert m2m_client_for("read:models read:prompts").get(EXPORT_URL).status_code == 200


def test_export_takes_no_query_parameters(admin_client):
    assert "dryRun" in errors_of(admin_client.get(EXPORT_URL, {"dryRun": "true"}))


# --- Import: the round trip -----------------------------------------------------------------------


def test_a_configuration_imported_into_an_empty_organization_resolves_to_the_same_prompts(
    admin_client, other_org_client, configuration
):
    doc = export(admin_client)

    report = imported(other_org_client, doc)

    assert report["dryRun"] is False and report["valid"] is True
    assert report["summary"] == {"created": 8, "updated": 0, "unchanged": 0, "error": 0}
    for model in configuration["models"]:
        original = admin_client.get(resolved_url(model.slug)).json()
        copy = other_org_client.get(resolved_url(model.slug)).json()
        assert copy["id"] != original["id"]
        assert copy["systemPrompt"] == original["systemPrompt"]
        assert {k: v for k, v in copy.items() if k not in NOT_COMPARED} == {
            k: v for k, v in original.items() if k not in NOT_COMPARED
        }
    assert AIModel.objects.filter(organization_id="org-b").count() == 4
    # B's own export is A's, but for when and where it was made.
    again = export(other_org_client)
    for key in ("exportedAt", "organization"):
        again.pop(key), doc.pop(key)
    assert again == doc


def test_every_imported_object_has_a_version_and_an_audit_event_by_the_importer(
    admin_client, other_org_client, configuration
):
    report = imported(other_org_client, export(admin_client))

    events = AuditEvent.objects.filter(organization_id="org-b")
    assert events.count() == len(report["objects"]) == 8
    assert set(events.values_list("action", flat=True)) == {"created"}
    assert set(events.values_list("actor", flat=True)) == {"member:member-test-org-b"}
    created = {item["id"] for item in report["objects"]}
    assert {str(pk) for pk in events.values_list("object_id", flat=True)} == created
    for model in AIModel.objects.filter(organization_id="org-b"):
        assert model.history.count() == 1
        assert model.history.first().history_actor == "member:member-test-org-b"


def test_importing_the_same_document_again_changes_nothing(admin_client, configuration):
    doc = export(admin_client)
    before = row_counts()

    report = imported(admin_client, doc)

    assert set(results(report).values()) == {"unchanged"}
    assert [item["id"] for item in report["objects"] if item["type"] == "model"] == [
        str(AIModel.objects.get(organization_id="org-a", slug=slug).pk)
        for slug in ("acme-house", "acme-raw", "acme-support", "acme-terse")
    ]
    assert row_counts() == before


def test_changed_objects_are_updated_and_missing_ones_are_not_deleted(admin_client, configuration):
    doc = export(admin_client)
    doc["particles"][0]["content"] = "Be warm, concise and kind."  # Friendly tone
    doc["compositions"][1]["particles"].insert(0, {"scope": "organization", "name": "Support agent"})  # Terse
    doc["models"] = [m for m in doc["models"] if m["slug"] != "acme-raw"]
    doc["models"][0]["isEnabled"] = False  # acme-house

    report = imported(admin_client, doc)

    assert results(report) == {
        "particles[0]": "updated",
        "particles[1]": "unchanged",
        "compositions[0]": "unchanged",
        "compositions[1]": "updated",
        "models[0]": "updated",
        "models[1]": "unchanged",
        "models[2]": "unchanged",
    }
    assert AIModel.objects.filter(organization_id="org-a", slug="acme-raw").exists()  # left as it was
    assert not AIModel.objects.get(organization_id="org-a", slug="acme-house").is_enabled
    terse = admin_client.get(resolved_url("acme-terse")).json()
    assert terse["systemPrompt"] == "You are Acme's support agent.\n\nBe warm, concise and kind."
    changed = AuditEvent.objects.filter(organization_id="org-a", action="updated")
    assert sorted(changed.values_list("object_repr", flat=True)) == ["Acme House", "Friendly tone", "Terse"]


def test_left_out_fields_take_their_defaults_and_references_may_name_existing_objects(admin_client, configuration):
    doc = document(
        models=[
            model_item("fresh", systemPromptComposition={"name": "Support"}),  # scope: organization by default
            model_item("acme-terse", name="Acme Terse"),  # its composition and max tokens go
        ]
    )

    report = imported(admin_client, doc)

    assert results(report) == {"models[0]": "created", "models[1]": "updated"}
    fresh = AIModel.objects.get(organization_id="org-a", slug="fresh")
    assert fresh.system_prompt_composition == configuration["compositions"][0]
    assert (fresh.context_window, fresh.max_tokens, fresh.is_enabled) == (128_000, None, True)
    terse = AIModel.objects.get(organization_id="org-a", slug="acme-terse")
    assert (terse.system_prompt_composition, terse.max_tokens) == (None, None)


# --- Import: dry runs -----------------------------------------------------------------------------


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(admin_client, other_org_client, configuration):
    doc = export(admin_client)
    ParticleFactory(organization_id="org-b", name="Friendly tone", kind="tone", content="Be warm and concise.")
    ParticleFactory(organization_id="org-b", name="Support agent", kind="role", content="Old text.")
    doc["models"].append(model_item("ghost", parent="no-such-model"))
    before = row_counts()

    report = imported(other_org_client, doc, dry_run="true")

    assert row_counts() == before
    assert report["dryRun"] is True and report["valid"] is False
    assert report["summary"] == {"created": 6, "updated": 1, "unchanged": 1, "error": 1}
    by_path = {item["path"]: item for item in report["objects"]}
    assert by_path["particles[0]"]["result"] == "unchanged" and by_path["particles[0]"]["id"]
    assert by_path["particles[1]"]["result"] == "updated"
    assert by_path["models[0]"] == {
        "path": "models[0]",
        "type": "model",
        "key": "acme-house",
        "result": "created",
        "id": None,  # nothing was created
        "errors": {},
    }
    assert by_path["models[4]"]["result"] == "error"
    assert by_path["models[4]"]["errors"] == {"models[4].parent": ["No system model with slug 'no-such-model'."]}


def test_a_valid_dry_run_then_the_real_run_do_the_same(admin_client, other_org_client, configuration):
    doc = export(admin_client)

    dry = imported(other_org_client, doc, dry_run="true")
    real = imported(other_org_client, doc, dry_run="false")

    assert dry["valid"] is True and results(dry) == results(real)
    assert set(results(real).values()) == {"created"}


@pytest.mark.parametrize(
    ("value", "dry_run"),
    [("true", True), ("True", True), ("TRUE", True), ("1", True), ("false", False), ("False", False), ("0", False)],
)
def test_dry_run_takes_the_spellings_of_the_boolean_filters(admin_client, base, value, dry_run):
    before = row_counts()

    report = imported(admin_client, document(models=[model_item()]), dry_run=value)

    assert report["dryRun"] is dry_run
    assert (row_counts() == before) is dry_run
    assert admin_client.get("/v1/models", {"isSystem": value}).status_code == 200


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yes-please", "Must be true or false."),
        ("yes", "Must be true or false."),
        ("on", "Must be true or false."),
        ("2", "Must be true or false."),
        (" ", "Must be true or false."),
        ("", "Must not be empty."),
    ],
)
def test_any_other_dry_run_is_the_boolean_filters_400_and_writes_nothing(admin_client, base, value, message):
    before = row_counts()

    response = do_import(admin_client, document(models=[model_item()]), dry_run=value)

    assert errors_of(response) == {"dryRun": [message]}
    assert response.json()["detail"] == "Invalid input: dryRun."
    assert row_counts() == before
    assert errors_of(admin_client.get("/v1/models", {"isSystem": value})) == {"isSystem": [message]}


def test_the_document_declares_dry_run_as_it_declares_the_boolean_filters(api_client):
    paths = orjson.loads(api_client.get("/api/schema/?format=json").content)["paths"]

    (dry_run,) = (p for p in paths[IMPORT_URL]["post"]["parameters"] if p["name"] == "dryRun")
    (is_system,) = (p for p in paths["/v1/models"]["get"]["parameters"] if p["name"] == "isSystem")

    assert dry_run["in"] == "query" and not dry_run.get("required")
    assert dry_run["schema"] == {**is_system["schema"], "default": False} == {"type": "boolean", "default": False}


def test_import_refuses_unknown_query_parameters(admin_client):
    response = admin_client.post(f"{IMPORT_URL}?dry_run=true", document(), format="json")

    assert errors_of(response) == {"dry_run": ["Unknown query parameter."]}


# --- Import: all or nothing -----------------------------------------------------------------------


def test_one_invalid_object_and_nothing_is_written(admin_client, other_org_client, configuration):
    doc = export(admin_client)
    doc["models"][1]["contextWindow"] = 200_000  # more than the parent's 128,000
    before = row_counts()

    response = do_import(other_org_client, doc)

    assert errors_of(response) == {
        "models[1].contextWindow": ["Must not exceed the parent model's context window (128000)."]
    }
    assert row_counts() == before
    assert not AIModel.objects.filter(organization_id="org-b").exists()  # not even models[0]
    assert not PromptParticle.objects.filter(organization_id="org-b").exists()


def test_a_quota_reached_midway_refuses_the_whole_import(admin_client, other_org_client, configuration):
    entitlement_services.entitlement_save(organization_id="org-b", actor="staff:curator", max_user_models=3)

    response = do_import(other_org_client, export(admin_client))

    errors = errors_of(response)
    assert list(errors) == ["models[3]"]
    assert "quota of 3 user models" in errors["models[3]"][0]
    assert not AIModel.objects.filter(organization_id="org-b").exists()


def test_a_model_name_taken_in_the_organization_is_refused_at_its_path(admin_client, base):
    UserModelFactory(parent=base, slug="existing", name="Taken Name")

    response = do_import(admin_client, document(models=[model_item("other", name="taken name")]))

    assert errors_of(response) == {"models[0].name": ["A model with this name already exists in your organization."]}


def test_references_to_missing_objects_name_their_path(admin_client, base):
    doc = document(
        particles=[{"name": "Mine", "content": "Text."}],
        compositions=[
            {"name": "C", "particles": [{"name": "Mine"}, {"name": "Nowhere"}, {"scope": "global", "name": "Gone"}]}
        ],
        models=[model_item("m", systemPromptComposition={"scope": "global", "name": "Missing"})],
    )

    errors = errors_of(do_import(admin_client, doc))

    assert errors == {
        "compositions[0].particles[1]": ["No particle is named 'Nowhere' in this document or in your organization."],
        "compositions[0].particles[2]": ["No global particle is named 'Gone'."],
        "models[0].systemPromptComposition": ["No global composition is named 'Missing'."],
    }


def test_a_particle_twice_in_a_composition_is_refused_at_the_repeat(admin_client, configuration):
    doc = document(compositions=[{"name": "C", "particles": [{"name": "Friendly tone"}, {"name": "Friendly tone"}]}])

    assert errors_of(do_import(admin_client, doc)) == {
        "compositions[0].particles[1]": ["Each particle may appear once; already at particles[0]."]
    }


def test_a_reference_to_an_object_in_error_says_so(admin_client, base):
    too_long = "x" * 30_000
    doc = document(
        particles=[{"name": "A", "content": too_long[:20_000]}, {"name": "B", "content": too_long[:20_000]}],
        compositions=[
            {"name": "C", "particles": [{"name": "A"}, {"name": "B"}, {"name": "A2"}]},
        ],
        models=[model_item("m", systemPromptComposition={"name": "C"})],
    )
    doc["particles"].append({"name": "A2", "content": too_long[:15_000]})

    report = imported(admin_client, doc, dry_run="true")

    assert report["objects"][3]["errors"] == {
        "compositions[0].particles": ["The rendered prompt would be 55,004 characters; at most 50,000 are allowed."]
    }
    assert report["objects"][4]["errors"] == {
        "models[0].systemPromptComposition": [
            "The composition 'C' (compositions[0]) cannot be imported; see its errors."
        ]
    }


# --- Import: system models ------------------------------------------------------------------------


def test_a_missing_or_disabled_system_model_is_a_400_naming_the_path(admin_client, base):
    SystemModelFactory(slug="off", name="Off", is_enabled=False)
    doc = document(models=[model_item("a"), model_item("b", parent="nope"), model_item("c", parent="off")])

    assert errors_of(do_import(admin_client, doc)) == {
        "models[1].parent": ["No system model with slug 'nope'."],
        "models[2].parent": ["Must reference an enabled system model; 'Off' is disabled."],
    }
    assert not AIModel.objects.filter(organization_id="org-a").exists()


def test_a_system_model_the_organization_is_not_entitled_to_is_told_as_missing(admin_client, base):
    other = SystemModelFactory(slug="other-base")
    entitlement_services.entitlement_save(
        organization_id="org-a", actor="staff:curator", mode="plan", extra_system_models=[other]
    )
    doc = document(models=[model_item("ok", parent="other-base"), model_item("no", parent="base-large")])

    assert errors_of(do_import(admin_client, doc)) == {"models[1].parent": ["No system model with slug 'base-large'."]}


def test_a_deprecated_system_model_takes_no_new_models(admin_client, base):
    base.deprecated_at = base.created_at.date()
    base.save()

    errors = errors_of(do_import(admin_client, document(models=[model_item("late")])))

    assert list(errors) == ["models[0].parent"]
    assert "deprecated" in errors["models[0].parent"][0]


# --- Import: the document itself ------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, 2, "1", None, 1.5, True])
@pytest.mark.parametrize("dry_run", [None, "true"])
def test_an_unknown_format_version_is_a_400_naming_it(admin_client, version, dry_run):
    errors = errors_of(do_import(admin_client, {"formatVersion": version, "models": []}, dry_run=dry_run))

    assert list(errors) == ["formatVersion"]


def test_a_document_without_a_format_version_is_refused(admin_client):
    assert list(errors_of(do_import(admin_client, {"models": []}))) == ["formatVersion"]


def test_unknown_fields_are_refused_with_their_path(admin_client, base):
    doc = document(
        models=[model_item("a"), {**model_item("b"), "parentId": "x", "isSystem": False}],
        compositions=[{"name": "C", "particles": [{"name": "P", "id": "x"}]}],
    )

    errors = errors_of(do_import(admin_client, doc))

    assert errors == {
        "compositions[0].particles[0].id": ["Unknown field."],
        "models[1].parentId": ["Unknown field."],
        "models[1].isSystem": ["Unknown field."],
    }
    assert errors_of(do_import(admin_client, document(color="blue"))) == {"color": ["Unknown field."]}


def test_bad_values_are_refused_with_their_path(admin_client, base):
    doc = document(
        particles=[{"name": "P", "content": "", "kind": "poem"}],
        models=[model_item("Bad Slug!", contextWindow=0, maxTokens=0)],
    )

    errors = errors_of(do_import(admin_client, doc))
    wrong_type = errors_of(do_import(admin_client, document(models=[model_item("m", contextWindow="8192")])))

    assert set(errors) == {
        "particles[0].content",
        "particles[0].kind",
        "models[0].slug",
        "models[0].contextWindow",
        "models[0].maxTokens",
    }
    assert wrong_type == {"models[0].contextWindow": ["Must be an integer."]}


def test_a_key_repeated_in_the_document_is_a_400_naming_the_repeat(admin_client, base):
    doc = document(
        particles=[{"name": "P", "content": "a"}, {"name": "Q", "content": "b"}, {"name": "P", "content": "c"}],
        models=[model_item("m"), model_item("m", name="Other")],
    )

    assert errors_of(do_import(admin_client, doc)) == {
        "particles[2].name": ["Already in the document at particles[0]."],
        "models[1].slug": ["Already in the document at models[0]."],
    }


def test_a_list_over_the_size_limit_is_a_400_naming_it(admin_client):
    doc = document(particles=[{"name": f"P{i}", "content": "x"} for i in range(limits.TRANSFER_MAX_ITEMS + 1)])

    errors = errors_of(do_import(admin_client, doc))

    assert list(errors) == ["particles"]
    assert str(limits.TRANSFER_MAX_ITEMS) in errors["particles"][0]
    assert not PromptParticle.objects.exists()


def test_a_body_over_the_request_size_limit_is_a_413_before_parsing(admin_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000

    response = do_import(admin_client, document(particles=[{"name": "P", "content": "x" * 2_000}]))

    assert assert_error_shape(response, 413)["code"] == "request_too_large"


@pytest.mark.parametrize("body", [[], "text", 1, {"formatVersion": 1, "models": {}}])
def test_a_document_that_is_not_one_is_a_400(admin_client, body):
    assert_error_shape(admin_client.post(IMPORT_URL, orjson.dumps(body), content_type="application/json"), 400)


# --- Import: access and retries -------------------------------------------------------------------


def test_import_needs_write_access_to_models_and_prompts(member_client, m2m_client_for, configuration):
    assert_error_shape(do_import(member_client, document()), 403)
    assert_error_shape(do_import(m2m_client_for("write:models"), document()), 403)
    assert_error_shape(do_import(m2m_client_for("write:prompts"), document(), dry_run="true"), 403)
    assert do_import(m2m_client_for("write:models write:prompts"), document()).status_code == 200


def test_an_idempotency_key_replays_the_import_and_creates_nothing_more(admin_client, other_org_client, configuration):
    doc = export(admin_client)

    first = do_import(other_org_client, doc, HTTP_IDEMPOTENCY_KEY="import-1")
    counts = row_counts()
    again = do_import(other_org_client, doc, HTTP_IDEMPOTENCY_KEY="import-1")

    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert row_counts() == counts
    assert AIModel.objects.filter(organization_id="org-b").count() == 4


def test_an_export_costs_the_same_queries_for_one_object_or_many(admin_client, base, django_assert_max_num_queries):
    particle = ParticleFactory(name="Only")
    UserModelFactory(parent=base, system_prompt_composition=CompositionFactory(particles=[particle]))
    with CaptureQueriesContext(connection) as one:
        export(admin_client)
    for index in range(10):
        particles = [ParticleFactory(name=f"P{index}"), GlobalParticleFactory(name=f"G{index}")]
        UserModelFactory(parent=base, system_prompt_composition=CompositionFactory(particles=particles))

    with django_assert_max_num_queries(len(one)):
        body = export(admin_client)

    assert len(body["models"]) == 11
