"""The lifecycle of system models (issue 16): dates, the derived status, what it allows, and what
callers are told. Every day boundary is pinned: the day before (still the earlier status) and the
day itself (the new one)."""

from __future__ import annotations

from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from models_registry import lifecycle, services
from models_registry.models import AIModel
from tests.assertions import assert_error_shape
from tests.factories import SystemModelFactory, UserModelFactory
from tests.models_registry.helpers import MODELS_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

TODAY = lifecycle.today()
DAY = timedelta(days=1)


def base(**lifecycle_fields: Any) -> AIModel:
    return SystemModelFactory(**lifecycle_fields)


# --- The status, derived from the dates on the current UTC day ------------------------------------


@pytest.mark.parametrize(
    ("deprecated_at", "retires_at", "expected"),
    [
        (None, None, "active"),
        (TODAY + DAY, None, "active"),  # the day before the deprecation
        (TODAY, None, "deprecated"),  # the day of it
        (TODAY - DAY, TODAY + DAY, "deprecated"),  # the day before the retirement
        (TODAY - DAY, TODAY, "retired"),  # the day of it
        (TODAY, TODAY, "retired"),  # both on one day
        (TODAY + DAY, TODAY + DAY, "active"),
    ],
)
def test_the_status_follows_the_dates(deprecated_at, retires_at, expected) -> None:
    assert lifecycle.status_of(deprecated_at, retires_at, TODAY) == expected


def test_the_status_changes_at_utc_midnight_without_a_job(admin_client: APIClient) -> None:
    model = base(deprecated_at=TODAY + DAY, retires_at=TODAY + 2 * DAY)
    url = f"{MODELS_URL}/{model.pk}"

    statuses = []
    for day in (TODAY, TODAY + DAY, TODAY + 2 * DAY):
        with mock.patch.object(lifecycle, "today", return_value=day):
            statuses.append(admin_client.get(url).json()["lifecycleStatus"])

    assert statuses == ["active", "deprecated", "retired"]


def test_a_user_model_shows_its_parents_lifecycle(admin_client: APIClient) -> None:
    successor = base()
    parent = base(deprecated_at=TODAY - DAY, retires_at=TODAY + 10 * DAY, successor=successor)
    child = UserModelFactory(parent=parent)

    body = admin_client.get(f"{MODELS_URL}/{child.pk}").json()

    assert body["lifecycleStatus"] == "deprecated"
    assert (body["deprecatedAt"], body["retiresAt"]) == ((TODAY - DAY).isoformat(), (TODAY + 10 * DAY).isoformat())
    assert body["successorId"] == str(successor.pk)
    assert {"deprecatedAt", "retiresAt", "successorId"} <= set(body["inheritedFields"])


# --- The list filter ------------------------------------------------------------------------------


def test_the_list_filters_on_the_status_of_system_and_user_models(admin_client: APIClient) -> None:
    active = base(deprecated_at=TODAY + DAY)
    deprecated = base(deprecated_at=TODAY)
    retired = base(deprecated_at=TODAY - DAY, retires_at=TODAY)
    on_deprecated = UserModelFactory(parent=deprecated)
    on_active = UserModelFactory(parent=active)

    def ids(status: str) -> set[str]:
        response = admin_client.get(MODELS_URL, {"lifecycleStatus": status, "limit": 200})
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert {str(deprecated.pk), str(on_deprecated.pk)} == ids("deprecated") & {
        str(m.pk) for m in (active, deprecated, retired, on_deprecated, on_active)
    }
    assert str(retired.pk) in ids("retired") and str(on_active.pk) in ids("active")
    assert str(active.pk) not in ids("deprecated")


@pytest.mark.parametrize("value", ["", "Active", "sunset"])
def test_an_unknown_status_is_a_400_naming_the_parameter(admin_client: APIClient, value: str) -> None:
    body = assert_error_shape(admin_client.get(MODELS_URL, {"lifecycleStatus": value}), 400)
    assert "lifecycleStatus" in body["errors"]


# --- New user models: only on an active base ------------------------------------------------------


@pytest.mark.parametrize(
    ("deprecated_at", "retires_at", "allowed"),
    [
        (TODAY + DAY, None, True),
        (TODAY, None, False),
        (TODAY - 2 * DAY, TODAY + DAY, False),
        (TODAY - 2 * DAY, TODAY, False),
    ],
    ids=["day-before-deprecation", "deprecation-day", "deprecated", "retirement-day"],
)
def test_creating_on_a_deprecated_or_retired_base_is_a_400_naming_parent_id_and_the_successor(
    admin_client: APIClient, deprecated_at: date, retires_at: date | None, allowed: bool
) -> None:
    successor = base(name="Newer Base")
    parent = base(deprecated_at=deprecated_at, retires_at=retires_at, successor=successor)

    response = admin_client.post(MODELS_URL, {"parentId": str(parent.pk), "name": "New One"}, format="json")

    if allowed:
        assert response.status_code == 201, response.content
        return
    body = assert_error_shape(response, 400)
    (message,) = body["errors"]["parentId"]
    assert "Newer Base" in message and str(successor.pk) in message
    assert not AIModel.objects.filter(name="New One").exists()


def test_existing_user_models_on_a_deprecated_base_keep_working(admin_client: APIClient) -> None:
    parent = base(deprecated_at=TODAY - DAY)
    child = UserModelFactory(parent=parent)
    url = f"{MODELS_URL}/{child.pk}"

    patched = admin_client.patch(url, {"description": "still editable", "parentId": str(parent.pk)}, format="json")
    resolved = admin_client.get(f"{url}/resolved")

    assert patched.status_code == 200, patched.content
    assert resolved.json()["isUsable"] is True


# --- Moving a user model: PATCH parentId ---------------------------------------------------------


def test_patch_parent_id_moves_a_model_onto_the_successor_as_a_version_and_an_audit_event(
    admin_client: APIClient,
) -> None:
    successor = base(context_window=200_000, max_tokens=32_000)
    parent = base(deprecated_at=TODAY - DAY, successor=successor)
    child = UserModelFactory(parent=parent, context_window=8_000, max_tokens=1_000)

    response = admin_client.patch(f"{MODELS_URL}/{child.pk}", {"parentId": str(successor.pk)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["parentId"] == str(successor.pk)
    assert response.json()["lifecycleStatus"] == "active"
    child.refresh_from_db()
    assert child.history.count() == 2
    events = admin_client.get("/v1/audit-events", {"objectId": str(child.pk)}).json()["results"]
    assert events[0]["changedFields"] == ["parentId"]


@pytest.mark.parametrize("status", ["deprecated", "retired"])
def test_patch_parent_id_onto_a_closed_base_is_a_400(admin_client: APIClient, status: str) -> None:
    closed = base(deprecated_at=TODAY - DAY, retires_at=TODAY if status == "retired" else None)
    child = UserModelFactory(parent=base())

    response = admin_client.patch(f"{MODELS_URL}/{child.pk}", {"parentId": str(closed.pk)}, format="json")

    body = assert_error_shape(response, 400)
    assert status in body["errors"]["parentId"][0]


def test_patch_parent_id_is_checked_against_the_new_bases_limits(admin_client: APIClient) -> None:
    small = base(context_window=8_000, max_tokens=4_000)
    child = UserModelFactory(parent=base(), context_window=100_000)

    response = admin_client.patch(f"{MODELS_URL}/{child.pk}", {"parentId": str(small.pk)}, format="json")

    body = assert_error_shape(response, 400)
    assert "contextWindow" in body["errors"]
    child.refresh_from_db()
    assert child.parent_id != small.pk


# --- What readers are told: headers, /resolved ---------------------------------------------------


def test_reads_of_a_model_on_a_deprecated_base_carry_deprecation_sunset_and_link(admin_client: APIClient) -> None:
    successor = base()
    parent = base(deprecated_at=TODAY - DAY, retires_at=TODAY + 30 * DAY, successor=successor)
    child = UserModelFactory(parent=parent)

    for url in (f"{MODELS_URL}/{child.pk}", f"{MODELS_URL}/{child.pk}/resolved", f"{MODELS_URL}/{parent.pk}"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        # RFC 9745: a structured-field date, seconds since the epoch at that day's UTC midnight.
        assert response["Deprecation"] == f"@{int(lifecycle._midnight(TODAY - DAY).timestamp())}"
        # RFC 8594: an HTTP-date.
        assert parsedate_to_datetime(response["Sunset"]).date() == TODAY + 30 * DAY
        assert response["Sunset"].endswith(" GMT")
        assert response["Link"] == f'<http://testserver{MODELS_URL}/{successor.pk}>; rel="successor-version"'


def test_reads_of_a_model_on_an_active_base_carry_no_lifecycle_headers(admin_client: APIClient) -> None:
    child = UserModelFactory(parent=base())

    response = admin_client.get(f"{MODELS_URL}/{child.pk}")

    assert not {"Deprecation", "Sunset", "Link"} & set(response.headers)


@pytest.mark.parametrize(("retires_at", "usable"), [(TODAY + DAY, True), (TODAY, False)])
def test_on_a_retired_base_resolved_is_not_usable_with_the_reason_and_the_successor(
    admin_client: APIClient, retires_at: date, usable: bool
) -> None:
    successor = base(name="Successor Base")
    parent = base(name="Old Base", deprecated_at=TODAY - 5 * DAY, retires_at=retires_at, successor=successor)
    child = UserModelFactory(parent=parent)

    body = admin_client.get(f"{MODELS_URL}/{child.pk}/resolved").json()

    assert body["isUsable"] is usable
    if usable:
        assert body["unusableReason"] is None
        return
    assert "Old Base" in body["unusableReason"] and retires_at.isoformat() in body["unusableReason"]
    assert "Successor Base" in body["unusableReason"] and body["successorId"] == str(successor.pk)
    assert AIModel.objects.filter(pk=child.pk).exists(), "nothing is deleted"


@pytest.mark.parametrize("retired_one", ["system model", "user model on it"])
def test_a_retired_models_reason_names_the_successor_read_with_the_model(
    admin_client: APIClient, retired_one: str
) -> None:
    """The successor's name comes with the model's own read (one column), not a read of its own:
    a retired model's resolved view costs the statements an active one's does."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    successor = base(name="Successor Base")
    retired = base(name="Old Base", deprecated_at=TODAY - 5 * DAY, retires_at=TODAY, successor=successor)
    model = retired if retired_one == "system model" else UserModelFactory(parent=retired)
    active = base(name="Active Base") if retired_one == "system model" else UserModelFactory(parent=successor)
    admin_client.get(f"{MODELS_URL}?limit=1")  # the organization's first request records it

    statements = {}
    for name, read in (("active", active), ("retired", model)):
        with CaptureQueriesContext(connection) as captured:
            body = admin_client.get(f"{MODELS_URL}/{read.pk}/resolved").json()
        statements[name] = len(captured.captured_queries)

    assert body["isUsable"] is False
    assert body["unusableReason"] == (
        f"The base model 'Old Base' was retired on {TODAY.isoformat()}. "
        f"Move this model to its successor 'Successor Base' (id {successor.pk})."
    )
    assert statements["retired"] == statements["active"]


# --- The rules of the dates and the successor -----------------------------------------------------


def test_retiring_needs_a_deprecation_on_or_before_it() -> None:
    with pytest.raises(ValidationError) as missing:
        SystemModelFactory.build(retires_at=TODAY).full_clean()
    with pytest.raises(ValidationError) as before:
        SystemModelFactory.build(deprecated_at=TODAY, retires_at=TODAY - DAY).full_clean()
    SystemModelFactory.build(deprecated_at=TODAY, retires_at=TODAY).full_clean()  # the same day is fine

    assert "deprecated_at" in missing.value.message_dict
    assert "retires_at" in before.value.message_dict


def test_the_database_refuses_dates_out_of_order_and_lifecycle_on_user_rows() -> None:
    model = base()
    with pytest.raises(IntegrityError), transaction.atomic():
        AIModel.objects.filter(pk=model.pk).update(deprecated_at=TODAY, retires_at=TODAY - DAY)
    child = UserModelFactory(parent=model)
    with pytest.raises(IntegrityError), transaction.atomic():
        AIModel.objects.filter(pk=child.pk).update(deprecated_at=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        AIModel.objects.filter(pk=model.pk).update(successor=model)


def test_a_successor_must_be_active_and_enabled() -> None:
    deprecated = base(deprecated_at=TODAY)
    disabled = base(is_enabled=False)
    for successor, word in ((deprecated, "deprecated"), (disabled, "disabled")):
        model = base()
        model.successor = successor
        with pytest.raises(ValidationError) as refused:
            services.system_model_save(instance=model, actor="staff:test")
        assert word in refused.value.message_dict["successor"][0]


def test_successors_never_form_a_cycle() -> None:
    a = base(name="A", deprecated_at=TODAY + 10 * DAY)
    b = base(name="B", deprecated_at=TODAY + 20 * DAY, successor=a)
    c = base(name="C", successor=b)
    a.successor = c  # A -> C -> B -> A

    with pytest.raises(ValidationError) as refused:
        services.system_model_save(instance=a, actor="staff:test")

    assert "cycle" in refused.value.message_dict["successor"][0]
    assert "A -> C -> B -> A" in refused.value.message_dict["successor"][0]


def test_a_model_is_never_its_own_successor() -> None:
    model = base()
    model.successor = model

    with pytest.raises(ValidationError) as refused:
        model.full_clean()

    assert "own successor" in refused.value.message_dict["successor"][0]


# --- GET /v1/models/deprecations ------------------------------------------------------------------


def test_deprecations_groups_the_organizations_models_by_time_left(admin_client: APIClient) -> None:
    successor = base(name="Next")
    retired = base(deprecated_at=TODAY - 60 * DAY, retires_at=TODAY, successor=successor)
    in_30 = base(deprecated_at=TODAY - DAY, retires_at=TODAY + 30 * DAY)
    in_31 = base(deprecated_at=TODAY - DAY, retires_at=TODAY + 31 * DAY)
    in_90 = base(deprecated_at=TODAY - DAY, retires_at=TODAY + 90 * DAY)
    in_91 = base(deprecated_at=TODAY - DAY, retires_at=TODAY + 91 * DAY)
    no_day = base(deprecated_at=TODAY)
    not_yet = base(deprecated_at=TODAY + DAY)  # not deprecated yet and no retirement day: not listed
    models = {
        name: UserModelFactory(parent=parent, name=name)
        for name, parent in [
            ("retired", retired),
            ("in 30", in_30),
            ("in 31", in_31),
            ("in 90", in_90),
            ("in 91", in_91),
            ("no day", no_day),
            ("not yet", not_yet),
            ("active", base()),
        ]
    }
    UserModelFactory(parent=retired, organization_id="org-b", name="theirs")

    response = admin_client.get(f"{MODELS_URL}/deprecations")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["asOf"] == TODAY.isoformat()
    names = {
        group: [item["name"] for item in body[group]] for group in ("retired", "within30Days", "within90Days", "later")
    }
    assert names == {
        "retired": ["retired"],
        "within30Days": ["in 30"],
        "within90Days": ["in 31", "in 90"],
        "later": ["in 91", "no day"],
    }
    (item,) = body["retired"]
    assert item["id"] == str(models["retired"].pk)
    assert (item["successorId"], item["successorName"]) == (str(successor.pk), "Next")
    assert (item["daysUntilRetirement"], item["lifecycleStatus"]) == (0, "retired")
    assert body["within30Days"][0]["daysUntilRetirement"] == 30


def test_deprecations_find_the_models_through_their_closing_bases(admin_client: APIClient) -> None:
    """One statement whose closing bases are a subquery: the organization's models are then found
    by their parent (its index), not by reading every model of the organization and joining each
    to its base (at 1.1M rows, the organization of 100,000: 212 ms of execution against 20)."""
    closing = base(deprecated_at=TODAY - DAY, retires_at=TODAY + 10 * DAY)
    UserModelFactory(parent=closing, name="closing")
    UserModelFactory(parent=base(), name="active")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(f"{MODELS_URL}/deprecations")
        statements = [query["sql"] for query in queries.captured_queries if "models_registry_aimodel" in query["sql"]]

    assert [item["name"] for item in response.json()["within30Days"]] == ["closing"]
    (statement,) = statements
    assert '"parent_id" IN (SELECT' in statement


def test_deprecations_takes_no_query_parameters(admin_client: APIClient) -> None:
    body = assert_error_shape(admin_client.get(f"{MODELS_URL}/deprecations", {"limit": 5}), 400)
    assert "limit" in body["errors"]
