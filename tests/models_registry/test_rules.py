"""Where each rule of a model lives, pinned: uniqueness by the constraint itself (the same
case-folding as the index; racing writers: tests/hardening/test_reference_races.py), the
child-limit rule shared by `clean()` and the system-model batch check, and the prompt rules of
`AIModel.clean()`."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from core.db import validate_unique_constraints
from models_registry.models import AIModel, child_limit_errors
from models_registry.services import system_model_child_conflicts
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

MODELS_URL = "/v1/models"


# --- Uniqueness: checked by the constraint, as the database checks it ---------------------------


def test_the_api_folds_case_as_the_unique_index_does(admin_client: APIClient) -> None:
    """`LOWER('Tıtle-x')` is 'tıtle-x', not 'title-x': the index allows both names, and so does the API
    (a hand-written `iexact` query compared UPPER() and refused the second)."""
    parent = SystemModelFactory()

    first = admin_client.post(MODELS_URL, {"parentId": str(parent.pk), "name": "Tıtle-x"}, format="json")
    second = admin_client.post(MODELS_URL, {"parentId": str(parent.pk), "name": "title-x"}, format="json")
    third = admin_client.post(MODELS_URL, {"parentId": str(parent.pk), "name": "TITLE-X"}, format="json")

    assert (first.status_code, second.status_code) == (201, 201), (first.json(), second.json())
    assert third.status_code == 400
    assert third.json()["errors"] == {"name": ["A model with this name already exists in your organization."]}


def test_a_user_model_is_checked_against_its_own_constraint_only(django_assert_num_queries) -> None:
    """The system-model constraints do not apply to a user row: no query is spent on them, one on
    each of its own (the name, the slug per organization)."""
    user_model = UserModelFactory.build(parent=SystemModelFactory(), name="Fresh")

    with django_assert_num_queries(2):
        validate_unique_constraints(user_model)


def test_a_taken_system_model_name_is_keyed_by_name() -> None:
    SystemModelFactory(name="Base")
    duplicate = SystemModelFactory.build(name="BASE")

    with pytest.raises(ValidationError) as info:
        validate_unique_constraints(duplicate)

    assert info.value.message_dict == {"name": ["A system model with this name already exists."]}


# --- The child-limit rule: one function for clean() and for the batch check ----------------------


CHILD_CASES = [
    # (the user model's own values, the fields that break against a parent of 8,192 / 4,096 / streaming)
    ({"context_window": 8_192, "max_tokens": None, "supports_streaming": True}, set()),
    ({"context_window": 8_193, "max_tokens": None, "supports_streaming": True}, {"context_window"}),
    ({"context_window": 8_192, "max_tokens": 4_096, "supports_streaming": True}, set()),
    ({"context_window": 8_192, "max_tokens": 4_097, "supports_streaming": True}, {"max_tokens"}),
    ({"context_window": 4_096, "max_tokens": None, "supports_streaming": True}, {"max_tokens"}),
    ({"context_window": 4_097, "max_tokens": None, "supports_streaming": True}, set()),
]


@pytest.mark.parametrize(("own", "expected"), CHILD_CASES)
def test_clean_applies_the_child_limit_rule(own: dict, expected: set[str]) -> None:
    parent = SystemModelFactory(context_window=8_192, max_tokens=4_096, supports_streaming=True)
    child = AIModel(parent=parent, organization_id="org-a", is_system=False, name="Child", **own)

    errors: dict = {}
    try:
        child.clean()
    except ValidationError as exc:
        errors = exc.message_dict

    assert set(errors) == expected
    assert set(child_limit_errors(parent, **own)) == expected


@pytest.mark.parametrize(("own", "expected"), CHILD_CASES)
def test_a_system_models_new_limits_are_checked_by_the_same_rule(own: dict, expected: set[str]) -> None:
    """The same cases seen from the other side: the user model exists, the system model shrinks to
    8,192 / 4,096 from a larger window."""
    parent = SystemModelFactory(context_window=200_000, max_tokens=100_000, supports_streaming=True)
    UserModelFactory(parent=parent, name="Existing", **own)
    parent.context_window, parent.max_tokens = 8_192, 4_096

    conflicts = system_model_child_conflicts({parent.pk: parent})

    assert {field for (_, field) in conflicts} == expected
    for children in conflicts.values():
        assert children == ["'Existing' (org-a)"]


def test_a_system_model_that_stops_streaming_conflicts_with_streaming_children() -> None:
    parent = SystemModelFactory(supports_streaming=True)
    UserModelFactory(parent=parent, name="Streams", supports_streaming=True)
    UserModelFactory(parent=parent, name="Quiet", supports_streaming=False)
    parent.supports_streaming = False

    assert dict(system_model_child_conflicts({parent.pk: parent})) == {
        (parent.pk, "supports_streaming"): ["'Streams' (org-a)"]
    }


# --- The prompt rules of AIModel.clean() -----------------------------------------------------------


def test_a_system_model_uses_a_global_composition_only() -> None:
    system = SystemModelFactory()
    system.system_prompt_composition = CompositionFactory(particles=[ParticleFactory()])

    with pytest.raises(ValidationError) as info:
        system.full_clean()

    assert info.value.message_dict == {
        "system_prompt_composition": ["A system model can use a global prompt composition only."]
    }


def test_a_user_model_uses_its_own_or_a_global_composition() -> None:
    other = CompositionFactory(organization_id="org-b")
    model = UserModelFactory.build(parent=SystemModelFactory(), system_prompt_composition=other)

    with pytest.raises(ValidationError) as info:
        model.clean()

    assert info.value.message_dict == {
        "system_prompt_composition": [f"No prompt composition with id {other.pk} is visible to your organization."]
    }
    model.system_prompt_composition = CompositionFactory(organization_id=None, is_system=True)
    model.clean()


# --- The child-conflict check reads only what may break (issue 19) -------------------------------


@pytest.mark.django_db
def test_the_child_conflict_query_keeps_every_child_the_rule_refuses() -> None:
    """`system_model_child_conflicts` asks the database only for the children that may break; that
    filter must never drop one `child_limit_errors` refuses. Every boundary of every limit (min-1,
    min, max, max+1 around the new values), inherited and own max tokens, streaming on and off,
    against the rule applied to every child in Python."""
    import itertools

    from models_registry.models import child_limit_errors
    from models_registry.services import system_model_child_conflicts

    parent = SystemModelFactory(context_window=200_000, max_tokens=100_000, supports_streaming=True)
    new = SystemModelFactory.build(context_window=8_192, max_tokens=4_096, supports_streaming=False)
    windows = (4_095, 4_096, 4_097, 8_191, 8_192, 8_193)
    tokens = (None, 4_095, 4_096, 4_097, 8_191, 8_192)
    expected: dict[str, list[str]] = {}
    for index, (window, max_tokens, streaming) in enumerate(itertools.product(windows, tokens, (True, False))):
        if max_tokens is not None and max_tokens >= window:
            continue  # refused by its own rule (and CHECK) before it could exist
        child = UserModelFactory(
            parent=parent,
            name=f"child {index}",
            context_window=window,
            max_tokens=max_tokens,
            supports_streaming=streaming,
        )
        errors = child_limit_errors(new, context_window=window, max_tokens=max_tokens, supports_streaming=streaming)
        for field in errors:
            expected.setdefault(field, []).append(f"{child.name!r} ({child.organization_id})")

    found = system_model_child_conflicts({parent.pk: new})

    assert {field: sorted(names) for (_, field), names in found.items()} == {
        field: sorted(names) for field, names in expected.items()
    }
    assert set(expected) == {"context_window", "max_tokens", "supports_streaming"}, "every kind of conflict occurs"


@pytest.mark.django_db
def test_the_child_conflict_query_reads_no_child_that_fits(django_assert_num_queries) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from models_registry.services import system_model_child_conflicts

    parent = SystemModelFactory(context_window=200_000, max_tokens=100_000)
    for index in range(20):
        UserModelFactory(parent=parent, name=f"fits {index}", context_window=8_192, max_tokens=1_000)
    new = SystemModelFactory.build(context_window=100_000, max_tokens=50_000, supports_streaming=True)

    with CaptureQueriesContext(connection) as queries:
        assert system_model_child_conflicts({parent.pk: new}) == {}
    assert len(queries) == 1
    with connection.cursor() as cursor:  # the same query returns no row at all
        cursor.execute(queries[0]["sql"].replace("%", "%%"))
        assert cursor.fetchall() == []
