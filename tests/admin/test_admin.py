"""The admin as the staff's curation tool, through Django's test client."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from models_registry import limits
from models_registry.models import AIModel, SystemModel
from prompts.models import PromptComposition, PromptParticle
from tests.admin.conftest import STAFF_USERNAME

pytestmark = pytest.mark.django_db

SYSTEM_ADD_URL = reverse("admin:models_registry_systemmodel_add")
SYSTEM_CHANGELIST_URL = reverse("admin:models_registry_systemmodel_changelist")
USER_CHANGELIST_URL = reverse("admin:models_registry_usermodel_changelist")
COMPOSITION_ADD_URL = reverse("admin:prompts_promptcomposition_add")
PARTICLE_ADD_URL = reverse("admin:prompts_promptparticle_add")


def system_model_form(**overrides) -> dict:
    data = {
        "name": "Large model Omni",
        "description": "",
        "is_enabled": "on",
        "provider": "provider-a",
        "provider_model_id": "large-model-omni",
        "context_window": "128000",
        "max_tokens": "4096",
        "supports_streaming": "on",
        "credit_multiplier": "1.5",
        "system_prompt_composition": "",
        "system_prompt_override": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def change_url(obj) -> str:
    name = "systemmodel" if obj.is_system else "usermodel"
    return reverse(f"admin:models_registry_{name}_change", args=[obj.pk])


def delete_url(obj) -> str:
    return reverse("admin:models_registry_systemmodel_delete", args=[obj.pk])


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def composition_form(particle_rows, *, initial=0, **overrides) -> dict:
    """POST data for the composition form; particle_rows: (item id or "", position, particle id)."""
    data = {
        "name": "Support assistant",
        "description": "",
        "is_system": "on",
        "organization_id": "",
        "items-TOTAL_FORMS": str(len(particle_rows)),
        "items-INITIAL_FORMS": str(initial),
        "items-MIN_NUM_FORMS": "1",
        "items-MAX_NUM_FORMS": "50",
        "_continue": "Save and continue editing",
    }
    for index, (item_id, position, particle_id) in enumerate(particle_rows):
        data[f"items-{index}-id"] = item_id
        data[f"items-{index}-position"] = str(position)
        data[f"items-{index}-particle"] = str(particle_id)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Branding and the index page --------------------------------------------------------
def test_admin_title_says_model_registry(staff_client):
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    content = response.content.decode()
    assert re.search(r"<title>[^<]*Model Registry[^<]*</title>", content)
    assert re.search(r'<div id="site-name"><a href="/admin/">Model Registry</a></div>', content)


def test_login_page_is_branded(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert "Model Registry" in response.content.decode()


def test_index_page_links_to_docs_admin_and_health(client):
    response = client.get("/")
    assert response.status_code == 200
    content = response.content.decode()
    for href in ("/api/docs/", "/api/redoc/", "/api/schema/", "/admin/", "/healthz"):
        assert f'href="{href}"' in content


EXTERNAL_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(\s*["']?(?:https?:)?//""", re.I)


def test_index_page_references_no_external_assets(client):
    content = client.get("/").content.decode()
    assert "http://" not in content
    assert "https://" not in content


def test_login_page_loads_no_external_assets(client):
    assert not EXTERNAL_ASSET.search(client.get(reverse("admin:login")).content.decode())


@pytest.mark.parametrize("url", ["/admin/", SYSTEM_ADD_URL, COMPOSITION_ADD_URL])
def test_admin_pages_load_no_external_assets(staff_client, url):
    response = staff_client.get(url)
    assert response.status_code == 200
    assert not EXTERNAL_ASSET.search(response.content.decode())


# --- System models: the changelist -------------------------------------------------------
def count_changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(SYSTEM_CHANGELIST_URL)
    assert response.status_code == 200
    return len(queries)


def test_system_model_changelist_queries_do_not_grow_with_rows(staff_client, make_system_model, make_user_model):
    parent = make_system_model()
    make_user_model(parent)
    one = count_changelist_queries(staff_client)

    for _ in range(19):
        make_user_model(make_system_model())
    assert SystemModel.objects.count() == 20
    assert count_changelist_queries(staff_client) == one


def test_system_model_changelist_shows_columns_and_user_model_count(staff_client, make_system_model, make_user_model):
    parent = make_system_model(name="Large model Omni", provider_model_id="large-omni")
    make_user_model(parent)
    make_user_model(parent)
    make_user_model(parent, organization_id="organization-test-2")

    response = staff_client.get(SYSTEM_CHANGELIST_URL)

    content = response.content.decode()
    for header in ("Provider model id", "Context window", "Max tokens", "Capabilities", "Credit multiplier"):
        assert header in content
    assert "large-omni" in content
    assert '<td class="field-capabilities">streaming, tools</td>' in content  # the four flags in one column
    row = response.context["cl"].result_list[0]
    assert row.user_model_count == 3
    assert f"?parent__id__exact={parent.pk}" in content


def test_system_model_changelist_lists_system_models_only(staff_client, make_system_model, make_user_model):
    make_user_model(make_system_model(name="Base"), name="Customer copy")

    response = staff_client.get(SYSTEM_CHANGELIST_URL)

    assert [obj.name for obj in response.context["cl"].result_list] == ["Base"]


def test_system_model_search_and_filters(staff_client, make_system_model):
    make_system_model(name="Vision one", provider_model_id="v-1", supports_vision=True, provider="provider-b")
    make_system_model(name="Text one", provider_model_id="t-1")

    by_search = staff_client.get(SYSTEM_CHANGELIST_URL, {"q": "v-1"}).context["cl"].result_list
    by_provider = staff_client.get(SYSTEM_CHANGELIST_URL, {"provider": "provider-b"}).context["cl"].result_list
    by_flag = staff_client.get(SYSTEM_CHANGELIST_URL, {"supports_vision__exact": "1"}).context["cl"].result_list

    assert [m.name for m in by_search] == ["Vision one"]
    assert [m.name for m in by_provider] == ["Vision one"]
    assert [m.name for m in by_flag] == ["Vision one"]


# --- System models: the add form ---------------------------------------------------------
def test_add_form_shows_bounds_and_seed_descriptions_as_help_text(staff_client):
    content = staff_client.get(SYSTEM_ADD_URL).content.decode()

    assert f"{limits.CONTEXT_WINDOW_MAX:,}" in content
    assert f"{limits.MAX_TOKENS_MAX:,}" in content
    assert "Keep this below" in content or "below the context window" in content
    assert "including system prompt, message history, user input" in content
    assert "Credit multiplier for billing" in content
    assert 'name="parent"' not in content
    assert 'name="organization_id"' not in content
    assert 'name="is_system"' not in content


def test_capability_flags_are_checkboxes_defaulting_to_false(staff_client):
    content = staff_client.get(SYSTEM_ADD_URL).content.decode()
    for flag in ("supports_tools", "supports_vision", "supports_reasoning"):
        assert re.search(rf'<input type="checkbox" name="{flag}"(?![^>]*checked)[^>]*>', content), flag


def test_add_form_creates_a_system_model(staff_client):
    response = staff_client.post(SYSTEM_ADD_URL, system_model_form(supports_tools="on"))

    assert response.status_code == 302
    created = AIModel.objects.get(provider_model_id="large-model-omni")
    assert created.is_system is True
    assert created.parent_id is None
    assert created.organization_id is None
    assert (created.supports_tools, created.supports_vision, created.supports_reasoning) == (True, False, False)
    assert created.credit_multiplier == Decimal("1.5")


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (limits.CONTEXT_WINDOW_MIN - 1, False),
        (limits.CONTEXT_WINDOW_MIN + 1, True),
        (limits.CONTEXT_WINDOW_MAX, True),
        (limits.CONTEXT_WINDOW_MAX + 1, False),
    ],
)
def test_add_form_bounds_context_window(staff_client, value, accepted):
    response = staff_client.post(SYSTEM_ADD_URL, system_model_form(context_window=str(value), max_tokens="1"))

    if accepted:
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert "context_window" in form_errors(response)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(0, False), (1, True), (limits.MAX_TOKENS_MAX, True), (limits.MAX_TOKENS_MAX + 1, False)],
)
def test_add_form_bounds_max_tokens(staff_client, value, accepted):
    data = system_model_form(context_window=str(limits.CONTEXT_WINDOW_MAX), max_tokens=str(value))

    response = staff_client.post(SYSTEM_ADD_URL, data)

    assert response.status_code == (302 if accepted else 200)
    if not accepted:
        assert list(form_errors(response)) == ["max_tokens"]


@pytest.mark.parametrize("max_tokens", ["8192", "8193"])
def test_max_tokens_must_stay_below_context_window(staff_client, max_tokens):
    response = staff_client.post(SYSTEM_ADD_URL, system_model_form(context_window="8192", max_tokens=max_tokens))

    assert response.status_code == 200
    errors = form_errors(response)
    assert list(errors) == ["max_tokens"]
    assert errors["max_tokens"] == ["Max tokens must be below context window (8192)."]


@pytest.mark.parametrize("field", ["provider", "provider_model_id", "credit_multiplier", "max_tokens"])
def test_add_form_requires_system_fields(staff_client, field):
    response = staff_client.post(SYSTEM_ADD_URL, system_model_form(**{field: ""}))

    assert response.status_code == 200
    assert list(form_errors(response)) == [field]


@pytest.mark.parametrize("value", ["0", "-1"])
def test_credit_multiplier_must_be_positive(staff_client, value):
    response = staff_client.post(SYSTEM_ADD_URL, system_model_form(credit_multiplier=value))

    assert response.status_code == 200
    assert list(form_errors(response)) == ["credit_multiplier"]


def test_duplicate_provider_model_is_a_form_error(staff_client, make_system_model):
    make_system_model(provider="provider-a", provider_model_id="large-model-omni")

    response = staff_client.post(SYSTEM_ADD_URL, system_model_form())

    assert response.status_code == 200
    assert "already exists" in str(form_errors(response))


def test_change_form_validates_like_create(staff_client, make_system_model):
    model = make_system_model(context_window=8192, max_tokens=1000)
    data = system_model_form(
        name=model.name, provider_model_id=model.provider_model_id, context_window="1000", max_tokens="1000"
    )

    response = staff_client.post(change_url(model), data)

    assert response.status_code == 200
    assert list(form_errors(response)) == ["max_tokens"]


# --- System models: bulk actions ---------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "before", "after"), [("disable_models", True, False), ("enable_models", False, True)]
)
def test_bulk_enable_disable(staff_client, make_system_model, action, before, after):
    chosen = [make_system_model(is_enabled=before) for _ in range(2)]
    already = make_system_model(is_enabled=after)
    untouched = make_system_model(is_enabled=before)

    response = staff_client.post(
        SYSTEM_CHANGELIST_URL,
        {"action": action, "_selected_action": [str(m.pk) for m in [*chosen, already]]},
        follow=True,
    )

    assert response.status_code == 200
    for model in chosen:
        model.refresh_from_db()
        assert model.is_enabled is after
    untouched.refresh_from_db()
    assert untouched.is_enabled is before
    state = "enabled" if after else "disabled"
    assert f"2 system models were {state}. 1 was already {state}." in [str(m) for m in response.context["messages"]]


# --- System models: deleting a referenced one -------------------------------------------
def test_delete_page_names_the_user_models_that_reference_it(staff_client, make_system_model, make_user_model):
    parent = make_system_model(name="Base")
    make_user_model(parent, name="Finance copy", organization_id="organization-acme")

    response = staff_client.get(delete_url(parent))

    assert response.status_code == 200
    content = response.content.decode()
    assert "protected related objects" in content
    assert "Finance copy" in content
    assert "organization-acme" in content


def test_deleting_a_referenced_system_model_is_refused_without_error(staff_client, make_system_model, make_user_model):
    parent = make_system_model()
    make_user_model(parent, name="Finance copy")

    response = staff_client.post(delete_url(parent), {"post": "yes"})

    assert response.status_code == 200
    assert "Finance copy" in response.content.decode()
    assert AIModel.objects.filter(pk=parent.pk).exists()


def test_bulk_delete_of_referenced_system_models_is_refused_without_error(
    staff_client, make_system_model, make_user_model
):
    parent = make_system_model()
    free = make_system_model()
    make_user_model(parent, name="Finance copy")
    selection = {"action": "delete_selected", "_selected_action": [str(parent.pk), str(free.pk)]}

    confirmation = staff_client.post(SYSTEM_CHANGELIST_URL, selection)
    forced = staff_client.post(SYSTEM_CHANGELIST_URL, {**selection, "post": "yes"})

    assert confirmation.status_code == 200
    assert "protected related objects" in confirmation.content.decode()
    assert "Finance copy" in confirmation.content.decode()
    assert forced.status_code == 200
    assert AIModel.objects.filter(pk__in=[parent.pk, free.pk]).count() == 2


def test_unreferenced_system_models_can_be_deleted(staff_client, make_system_model):
    single, first, second = make_system_model(), make_system_model(), make_system_model()

    single_response = staff_client.post(delete_url(single), {"post": "yes"})
    bulk_response = staff_client.post(
        SYSTEM_CHANGELIST_URL,
        {"action": "delete_selected", "_selected_action": [str(first.pk), str(second.pk)], "post": "yes"},
    )

    assert single_response.status_code == 302
    assert bulk_response.status_code == 302
    assert not AIModel.objects.exists()


# --- User models -----------------------------------------------------------------------
def test_user_model_changelist_filters_and_constant_queries(staff_client, make_system_model, make_user_model):
    parent = make_system_model()
    make_user_model(parent, organization_id="organization-a", name="A one")
    with CaptureQueriesContext(connection) as few:
        staff_client.get(USER_CHANGELIST_URL)
    for n in range(19):
        make_user_model(make_system_model(), organization_id=f"organization-{n % 3}")
    with CaptureQueriesContext(connection) as many:
        response = staff_client.get(USER_CHANGELIST_URL)
    filtered = staff_client.get(USER_CHANGELIST_URL, {"organization": "organization-a"})
    by_parent = staff_client.get(USER_CHANGELIST_URL, {"parent__id__exact": str(parent.pk)})

    assert response.status_code == 200
    assert len(many) == len(few)
    assert "organization-a" in response.content.decode()
    assert [m.name for m in filtered.context["cl"].result_list] == ["A one"]
    assert [m.name for m in by_parent.context["cl"].result_list] == ["A one"]


def test_user_models_cannot_be_added_or_deleted_in_the_admin(staff_client, make_system_model, make_user_model):
    user_model = make_user_model(make_system_model())

    assert staff_client.get(reverse("admin:models_registry_usermodel_add")).status_code == 403
    delete = reverse("admin:models_registry_usermodel_delete", args=[user_model.pk])
    assert staff_client.get(delete).status_code == 403


def test_user_model_change_page_shows_effective_configuration(staff_client, make_system_model, make_user_model):
    parent = make_system_model(name="Base", provider="provider-z", max_tokens=4096, context_window=128_000)
    user_model = make_user_model(parent, context_window=32_000, max_tokens=None)

    response = staff_client.get(change_url(user_model))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Effective configuration" in content
    assert re.search(r"<th>provider</th><td>provider-z</td><td>inherited from Base</td>", content)
    assert re.search(r"<th>max tokens</th><td>4,096</td><td>inherited from Base</td>", content)
    assert re.search(r"<th>context window</th><td>32,000</td><td>own value</td>", content)
    assert re.search(r"<th>credit multiplier</th><td>1.5000?</td><td>inherited from Base</td>", content)


def test_user_model_change_page_is_read_only_except_the_enabled_flag(staff_client, make_system_model, make_user_model):
    user_model = make_user_model(make_system_model(), name="Original")

    form = staff_client.get(change_url(user_model)).context["adminform"].form
    response = staff_client.post(change_url(user_model), {"name": "Changed", "context_window": "5"})

    assert list(form.fields) == ["is_enabled"]
    assert response.status_code == 302
    user_model.refresh_from_db()
    assert user_model.name == "Original"
    assert user_model.is_enabled is False


def test_user_model_change_page_renders_the_composition(
    staff_client, make_system_model, make_user_model, make_particle, make_composition
):
    composition = make_composition([make_particle("You are a finance assistant."), make_particle("Be brief.")])
    user_model = make_user_model(make_system_model(), system_prompt_composition=composition)

    content = staff_client.get(change_url(user_model)).content.decode()

    assert "Source: composition" in content
    assert "You are a finance assistant.\n\nBe brief." in content


def test_user_model_change_page_prefers_the_override(
    staff_client, make_system_model, make_user_model, make_particle, make_composition
):
    composition = make_composition([make_particle("From the composition.")])
    user_model = make_user_model(
        make_system_model(), system_prompt_composition=composition, system_prompt_override="You are terse."
    )

    content = staff_client.get(change_url(user_model)).content.decode()

    assert "Source: override" in content
    assert "You are terse." in content
    assert "From the composition." not in content


def test_user_model_change_page_without_prompt_shows_a_dash(staff_client, make_system_model, make_user_model):
    user_model = make_user_model(make_system_model())

    content = staff_client.get(change_url(user_model)).content.decode()

    assert re.search(r'Rendered system prompt:</label>\s*<div class="readonly">—</div>', content)


def test_user_model_toggle_shows_model_errors_instead_of_failing(staff_client, make_system_model, make_user_model):
    parent = make_system_model(context_window=128_000)
    user_model = make_user_model(parent, context_window=100_000)
    AIModel.objects.filter(pk=parent.pk).update(context_window=50_000, max_tokens=4096)

    response = staff_client.post(change_url(user_model), {"is_enabled": ""})

    assert response.status_code == 200
    assert "Context window: Must not exceed the parent model" in str(form_errors(response))


# --- Prompt particles and compositions ---------------------------------------------------
def test_composition_change_page_shows_preview_and_where_used(
    staff_client, make_system_model, make_user_model, make_particle, make_composition
):
    composition = make_composition([make_particle("Role."), make_particle("Tone.")], name="Support")
    make_system_model(name="Base with prompt", system_prompt_composition=composition)
    make_user_model(make_system_model(), name="Customer copy", system_prompt_composition=composition)

    response = staff_client.get(reverse("admin:prompts_promptcomposition_change", args=[composition.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert '<pre class="rendered-prompt"' in content
    assert "Role.\n\nTone." in content
    assert "Base with prompt" in content
    assert "Customer copy" in content


def test_particle_change_page_shows_where_used(staff_client, make_particle, make_composition):
    particle = make_particle("Be kind.")
    make_composition([particle], name="Kind support")
    make_composition([make_particle("Other.")], name="Unrelated")

    response = staff_client.get(reverse("admin:prompts_promptparticle_change", args=[particle.pk]))

    content = response.content.decode()
    assert "Kind support" in content
    assert "Unrelated" not in content


def test_new_particles_and_compositions_default_to_global(staff_client):
    for url in (PARTICLE_ADD_URL, COMPOSITION_ADD_URL):
        form = staff_client.get(url).context["adminform"].form
        assert form.initial["is_system"] is True
        assert not form.initial.get("organization_id")


@pytest.mark.parametrize(("is_system", "organization_id"), [("on", "organization-acme"), ("", "")])
def test_particle_owner_fields_must_agree(staff_client, is_system, organization_id):
    data = {"name": "Tone", "kind": "tone", "content": "Be kind.", "is_system": is_system}
    data["organization_id"] = organization_id

    response = staff_client.post(PARTICLE_ADD_URL, data)

    assert response.status_code == 200
    assert list(form_errors(response)) == ["organization_id"]
    assert not PromptParticle.objects.exists()


def test_composition_owner_fields_must_agree(staff_client, make_particle):
    particle = make_particle("Role.")

    response = staff_client.post(
        COMPOSITION_ADD_URL, composition_form([("", 0, particle.pk)], organization_id="organization-acme")
    )

    assert response.status_code == 200
    assert list(form_errors(response)) == ["organization_id"]
    assert not PromptComposition.objects.exists()


def test_global_composition_cannot_use_an_organization_particle(staff_client, make_particle):
    particle = make_particle("Secret.", is_system=False, organization_id="organization-acme")

    response = staff_client.post(COMPOSITION_ADD_URL, composition_form([("", 0, particle.pk)]))

    assert response.status_code == 200
    assert "global particles only" in response.content.decode()
    assert not PromptComposition.objects.exists()


def test_composition_is_created_with_ordered_particles(staff_client, make_particle):
    role, tone, rules = make_particle("Role."), make_particle("Tone."), make_particle("Rules.")

    response = staff_client.post(
        COMPOSITION_ADD_URL, composition_form([("", 2, role.pk), ("", 0, tone.pk), ("", 1, rules.pk)])
    )

    assert response.status_code == 302
    composition = PromptComposition.objects.get()
    assert composition.is_system is True
    assert composition.organization_id is None
    assert "Tone.\n\nRules.\n\nRole." in staff_client.get(response.url).content.decode()


def test_reordering_particles_swaps_positions_without_conflict(staff_client, make_particle, make_composition):
    role, tone, rules = make_particle("Role."), make_particle("Tone."), make_particle("Rules.")
    composition = make_composition([role, tone, rules])
    items = {item.particle_id: item.pk for item in composition.items.all()}
    url = reverse("admin:prompts_promptcomposition_change", args=[composition.pk])

    response = staff_client.post(
        url,
        composition_form(
            [(items[role.pk], 2, role.pk), (items[tone.pk], 1, tone.pk), (items[rules.pk], 0, rules.pk)],
            initial=3,
            name=composition.name,
        ),
        follow=True,
    )

    assert response.status_code == 200
    assert "Rules.\n\nTone.\n\nRole." in response.content.decode()
    assert list(composition.items.order_by("position").values_list("particle_id", flat=True)) == [
        rules.pk,
        tone.pk,
        role.pk,
    ]


def test_duplicate_positions_are_a_form_error(staff_client, make_particle):
    role, tone = make_particle("Role."), make_particle("Tone.")

    response = staff_client.post(COMPOSITION_ADD_URL, composition_form([("", 0, role.pk), ("", 0, tone.pk)]))

    assert response.status_code == 200
    assert "Please correct the duplicate data" in response.content.decode()
    assert not PromptComposition.objects.exists()


def test_composition_needs_a_particle(staff_client):
    response = staff_client.post(COMPOSITION_ADD_URL, composition_form([]))

    assert response.status_code == 200
    assert not PromptComposition.objects.exists()


def test_removing_a_particle_from_a_composition(staff_client, make_particle, make_composition):
    role, tone = make_particle("Role."), make_particle("Tone.")
    composition = make_composition([role, tone])
    items = {item.particle_id: item.pk for item in composition.items.all()}
    url = reverse("admin:prompts_promptcomposition_change", args=[composition.pk])
    data = composition_form(
        [(items[role.pk], 0, role.pk), (items[tone.pk], 1, tone.pk)], initial=2, name=composition.name
    )
    data["items-0-DELETE"] = "on"
    data["items-1-position"] = "0"

    response = staff_client.post(url, data)

    assert response.status_code == 302
    assert list(composition.items.values_list("particle_id", "position")) == [(tone.pk, 0)]


def test_deleting_a_used_particle_shows_where_it_is_used(staff_client, make_particle, make_composition):
    particle = make_particle("Role.")
    make_composition([particle], name="Support")

    response = staff_client.get(reverse("admin:prompts_promptparticle_delete", args=[particle.pk]))

    assert response.status_code == 200
    assert "protected related objects" in response.content.decode()
    assert "Support" in response.content.decode()


# --- Version history ---------------------------------------------------------------------
@pytest.mark.parametrize("model", [PromptParticle, PromptComposition])
def test_history_button_lists_versions(staff_client, make_particle, make_composition, model):
    if not hasattr(model, "history"):
        pytest.skip(f"{model.__name__} keeps no version history yet")
    particle = make_particle("Role.")
    obj = particle if model is PromptParticle else make_composition([particle])
    obj.name = "Renamed"
    obj.save()
    info = f"admin:prompts_{model._meta.model_name}"

    change_page = staff_client.get(reverse(f"{info}_change", args=[obj.pk])).content.decode()
    history = staff_client.get(reverse(f"{info}_history", args=[obj.pk]))
    oldest = obj.history.earliest("history_date")
    version = staff_client.get(reverse(f"{info}_simple_history", args=[obj.pk, oldest.history_id]))

    assert reverse(f"{info}_history", args=[obj.pk]) in change_page
    assert history.status_code == 200
    assert "simple_history/object_history.html" in [t.name for t in history.templates]
    assert len(history.context["page_obj"].object_list) == obj.history.count() >= 2
    assert version.status_code == 200


def test_a_reorder_in_the_admin_is_recorded_in_the_composition_version(staff_client, make_particle, make_composition):
    if not hasattr(PromptComposition, "history"):
        pytest.skip("PromptComposition keeps no version history yet")
    role, tone = make_particle("Role."), make_particle("Tone.")
    composition = make_composition([role, tone])
    versions_before = composition.history.count()
    items = {item.particle_id: item.pk for item in composition.items.all()}
    url = reverse("admin:prompts_promptcomposition_change", args=[composition.pk])
    data = composition_form(
        [(items[role.pk], 1, role.pk), (items[tone.pk], 0, tone.pk)], initial=2, name=composition.name
    )

    assert staff_client.post(url, data).status_code == 302

    latest = composition.history.order_by("-history_date", "-history_id").first()
    assert composition.history.count() == versions_before + 1
    assert latest.particle_ids == [str(tone.pk), str(role.pk)]


def test_an_admin_reorder_leaves_the_same_audit_detail_as_the_api(staff_client, make_particle, client_for):
    """The admin writes through the API's service: one version, one audit event naming particleIds."""
    from core.models import AuditEvent
    from prompts import services

    role, tone = make_particle("Role."), make_particle("Tone.")
    # Made as the API makes them, so their first version records both particles in order.
    in_admin = services.composition_create(
        organization_id=None,
        actor="system:test",
        data={"name": "Reordered in the admin", "particle_ids": [role.pk, tone.pk]},
    )
    through_api = services.composition_create(
        organization_id="org-a",
        actor="system:test",
        data={"name": "Reordered through the API", "particle_ids": [role.pk, tone.pk]},
    )
    items = {item.particle_id: item.pk for item in in_admin.items.all()}
    data = composition_form([(items[role.pk], 1, role.pk), (items[tone.pk], 0, tone.pk)], initial=2, name=in_admin.name)

    assert (
        staff_client.post(reverse("admin:prompts_promptcomposition_change", args=[in_admin.pk]), data).status_code
        == 302
    )
    api = client_for(org="org-a").patch(
        f"/v1/prompt-compositions/{through_api.pk}", {"particleIds": [str(tone.pk), str(role.pk)]}, format="json"
    )
    assert api.status_code == 200

    admin_event = AuditEvent.objects.filter(object_id=in_admin.pk, action="updated").get()
    api_event = AuditEvent.objects.filter(object_id=through_api.pk, action="updated").get()
    assert admin_event.changed_fields == api_event.changed_fields == ["particleIds"]
    assert admin_event.actor == f"staff:{STAFF_USERNAME}"
    assert in_admin.history.count() == through_api.history.count() == 2
    latest = in_admin.history.order_by("-history_date", "-history_id").first()
    assert latest.particle_ids == [str(tone.pk), str(role.pk)]
    assert latest.history_actor == f"staff:{STAFF_USERNAME}"


def test_a_particle_cannot_move_to_an_organization_whose_compositions_do_not_use_it(
    staff_client, make_particle, make_composition
):
    particle = make_particle("Shared.")
    make_composition([particle], name="Global user")
    data = {"name": particle.name, "kind": "custom", "content": "Shared.", "is_system": "", "organization_id": "org-x"}

    response = staff_client.post(reverse("admin:prompts_promptparticle_change", args=[particle.pk]), data)

    assert response.status_code == 200
    assert form_errors(response)["organization_id"] == ["Used by compositions outside this organization: Global user."]
    particle.refresh_from_db()
    assert (particle.is_system, particle.organization_id) == (True, None)


def test_a_composition_cannot_move_to_an_organization_whose_models_do_not_use_it(
    staff_client, make_particle, make_composition, make_system_model, make_user_model
):
    particle = make_particle("Role.")
    composition = make_composition([particle], name="Shared prompt")
    make_user_model(make_system_model(), name="Elsewhere", system_prompt_composition=composition)
    (item,) = composition.items.all()
    data = composition_form([(item.pk, 0, particle.pk)], initial=1, name=composition.name, is_system="")
    data["organization_id"] = "org-x"

    response = staff_client.post(reverse("admin:prompts_promptcomposition_change", args=[composition.pk]), data)

    assert response.status_code == 200
    assert form_errors(response)["organization_id"] == ["Used by models outside this organization: Elsewhere."]
    composition.refresh_from_db()
    assert (composition.is_system, composition.organization_id) == (True, None)


def test_particle_content_must_keep_its_compositions_within_the_limit(staff_client, make_particle, make_composition):
    particle = make_particle("Short.")
    make_composition([particle, make_particle("x" * 15_000), make_particle("z" * 15_000)], name="Long one")
    data = {"name": particle.name, "kind": "custom", "content": "y" * 20_000, "is_system": "on", "organization_id": ""}

    response = staff_client.post(reverse("admin:prompts_promptparticle_change", args=[particle.pk]), data)

    assert response.status_code == 200
    assert "Long one" in str(form_errors(response)["content"])
    particle.refresh_from_db()
    assert particle.content == "Short."


@pytest.mark.django_db
def test_audit_trail_is_listed_read_only_in_the_admin(staff_client, make_system_model):
    from core.models import AuditEvent

    system = make_system_model(name="Audited Base")
    AuditEvent.objects.filter(object_id=system.pk).update(actor="staff:auditor")

    changelist = staff_client.get("/admin/core/auditevent/")
    event = AuditEvent.objects.get(object_id=system.pk)
    detail = staff_client.get(f"/admin/core/auditevent/{event.pk}/change/")

    assert changelist.status_code == 200
    assert "Audited Base" in changelist.content.decode()
    assert "staff:auditor" in changelist.content.decode()
    assert detail.status_code == 200
    assert staff_client.get("/admin/core/auditevent/add/").status_code == 403


def _form_of(system: AIModel, **overrides) -> dict:
    current = {
        "name": system.name,
        "provider": system.provider,
        "provider_model_id": system.provider_model_id,
        "context_window": str(system.context_window),
        "max_tokens": str(system.max_tokens),
    }
    return system_model_form(**{**current, **overrides})


@pytest.mark.django_db
def test_lowering_a_system_model_below_its_user_models_is_a_field_error(
    staff_client, make_system_model, make_user_model
):
    system = make_system_model(context_window=128_000, max_tokens=4_096)
    make_user_model(system, name="Wide Support", context_window=100_000)

    response = staff_client.post(change_url(system), _form_of(system, context_window="64000"))

    assert response.status_code == 200
    assert "Wide Support" in " ".join(form_errors(response)["context_window"])
    system.refresh_from_db()
    assert system.context_window == 128_000


@pytest.mark.django_db
def test_turning_streaming_off_under_streaming_user_models_is_a_field_error(
    staff_client, make_system_model, make_user_model
):
    system = make_system_model()
    make_user_model(system, name="Streaming Child", supports_streaming=True)

    response = staff_client.post(change_url(system), _form_of(system, supports_streaming=None))

    assert "Streaming Child" in " ".join(form_errors(response)["supports_streaming"])
    system.refresh_from_db()
    assert system.supports_streaming is True


@pytest.mark.django_db
def test_a_change_that_keeps_user_models_valid_is_saved(staff_client, make_system_model, make_user_model):
    system = make_system_model(context_window=128_000, max_tokens=4_096)
    make_user_model(system, context_window=32_000)

    response = staff_client.post(change_url(system), _form_of(system, context_window="64000"))

    assert response.status_code == 302
    system.refresh_from_db()
    assert system.context_window == 64_000


# --- Slugs (issue 17) ------------------------------------------------------------------------------
@pytest.mark.parametrize(("given", "expected"), [("", "large-model-omni"), ("house-omni", "house-omni")])
def test_a_system_model_slug_defaults_to_its_provider_model_id(staff_client, given, expected):
    response = staff_client.post(SYSTEM_ADD_URL, system_model_form(slug=given))

    assert response.status_code == 302, form_errors(response)
    assert AIModel.objects.get(provider_model_id="large-model-omni").slug == expected


def test_a_bad_system_model_slug_is_a_form_error(staff_client):
    response = staff_client.post(SYSTEM_ADD_URL, system_model_form(slug="Not A Slug"))

    assert list(form_errors(response)) == ["slug"]
