"""The admin of the lifecycle (issue 16): the dates and the successor on the system model form,
checked as the service checks them; the lifecycle column and filter; the move action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages

from core.models import AuditEvent
from models_registry import lifecycle
from models_registry.models import AIModel
from tests.admin.test_admin import SYSTEM_ADD_URL, SYSTEM_CHANGELIST_URL, change_url, form_errors, system_model_form
from tests.factories import UserModelFactory

pytestmark = pytest.mark.django_db

TODAY = lifecycle.today()
DAY = timedelta(days=1)


def test_the_form_saves_the_lifecycle(staff_client, make_system_model):
    successor = make_system_model()

    response = staff_client.post(
        SYSTEM_ADD_URL,
        system_model_form(
            deprecated_at=TODAY.isoformat(), retires_at=(TODAY + 30 * DAY).isoformat(), successor=str(successor.pk)
        ),
    )

    assert response.status_code == 302, form_errors(response)
    saved = AIModel.objects.get(provider_model_id=system_model_form()["provider_model_id"])
    assert (saved.deprecated_at, saved.retires_at, saved.successor_id) == (TODAY, TODAY + 30 * DAY, successor.pk)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"retires_at": "2026-01-01"}, "deprecated_at", "deprecation day too"),
        ({"deprecated_at": "2026-02-01", "retires_at": "2026-01-31"}, "retires_at", "on or after"),
        ({"successor": "deprecated"}, "successor", "is deprecated"),
    ],
)
def test_the_form_refuses_a_bad_lifecycle_next_to_the_field(staff_client, make_system_model, fields, field, words):
    deprecated = make_system_model(deprecated_at=TODAY - DAY)
    if fields.get("successor") == "deprecated":
        fields = {"successor": str(deprecated.pk)}

    response = staff_client.post(SYSTEM_ADD_URL, system_model_form(**fields))

    assert response.status_code == 200
    errors = form_errors(response)
    assert list(errors) == [field]
    assert words in str(errors[field])


def test_the_form_refuses_a_cycle(staff_client, make_system_model):
    a = make_system_model(name="A")
    b = make_system_model(name="B", successor=a)
    data = system_model_form(
        name=a.name, provider_model_id=a.provider_model_id, provider=a.provider, successor=str(b.pk)
    )

    response = staff_client.post(change_url(a), data)

    assert "cycle" in str(form_errors(response)["successor"])


def test_the_changelist_shows_the_status_and_filters_on_it(staff_client, make_system_model):
    make_system_model(name="Old One", deprecated_at=TODAY - 3 * DAY, retires_at=TODAY)
    make_system_model(name="Current One")

    everything = staff_client.get(SYSTEM_CHANGELIST_URL).content.decode()
    retired = staff_client.get(SYSTEM_CHANGELIST_URL, {"lifecycle": "retired"}).content.decode()

    assert f"retired {TODAY.isoformat()}" in everything
    assert "Old One" in retired and "Current One" not in retired


def test_the_move_action_moves_every_user_model_to_the_successor(staff_client, make_system_model):
    new = make_system_model(name="New", context_window=64_000)
    old = make_system_model(name="Old", deprecated_at=TODAY - DAY, successor=new)
    children = [UserModelFactory(parent=old, context_window=8_000) for _ in range(3)]

    response = staff_client.post(
        SYSTEM_CHANGELIST_URL, {"action": "move_user_models_to_successor", "_selected_action": [str(old.pk)]}
    )

    assert response.status_code == 302
    assert AIModel.objects.filter(parent=new).count() == 3
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Moved user models: 3 from Old to New."]
    event = AuditEvent.objects.filter(object_id=children[0].pk).latest("occurred_at")
    assert (event.changed_fields, event.actor) == (["parentId"], "staff:curator")


def test_the_move_action_moves_nothing_when_one_model_would_break(staff_client, make_system_model):
    new = make_system_model(name="New", context_window=64_000)
    old = make_system_model(name="Old", deprecated_at=TODAY - DAY, successor=new)
    other_new = make_system_model(name="Other New")
    other_old = make_system_model(name="Other Old", deprecated_at=TODAY - DAY, successor=other_new)
    fine = UserModelFactory(parent=other_old, context_window=8_000)
    UserModelFactory(parent=old, name="Too Wide", context_window=100_000)

    response = staff_client.post(
        SYSTEM_CHANGELIST_URL,
        {"action": "move_user_models_to_successor", "_selected_action": [str(old.pk), str(other_old.pk)]},
        follow=True,
    )

    page = response.content.decode()
    assert "Nothing moved: 1 user model problem(s) moving from Old to New" in page and "Too Wide" in page
    fine.refresh_from_db()
    assert fine.parent_id == other_old.pk, "all or nothing across the selection"


def test_the_move_action_needs_a_successor(staff_client, make_system_model):
    old = make_system_model(name="No Successor", deprecated_at=TODAY - DAY)
    UserModelFactory(parent=old, context_window=8_000)

    response = staff_client.post(
        SYSTEM_CHANGELIST_URL,
        {"action": "move_user_models_to_successor", "_selected_action": [str(old.pk)]},
        follow=True,
    )

    assert "No successor set: No Successor. Nothing moved." in response.content.decode()
