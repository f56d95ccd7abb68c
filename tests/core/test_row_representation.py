"""`RowRepresentation`: a list page's bodies built from plain rows are the serializer's bodies.

The particles list reads `.values()` and writes each row through it (issue 19: the page of 50
in the organization of 100,000 spent most of its Python time in DRF's walk of every field).
What it writes must be what `PromptParticleSerializer(instance).data` writes, value for value.
"""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.pagination import Pagination
from core.serializers import RowRepresentation
from models_registry.models import AIModel
from prompts.api.serializers import PromptParticleSerializer
from prompts.api.views import PromptParticleViewSet
from prompts.models import ParticleKind, PromptParticle
from tests.factories import GlobalParticleFactory, ParticleFactory

URL = "/v1/prompt-particles"
PARTICLES = RowRepresentation(PromptParticleSerializer)


def test_the_particles_list_is_built_from_rows() -> None:
    assert PromptParticleViewSet.row_representation is not None
    assert set(PARTICLES.columns) == {"id", "kind", "name", "content", "is_system", "created_at", "updated_at"}


@pytest.mark.django_db
def test_rows_give_the_serializers_bodies() -> None:
    ParticleFactory(kind=ParticleKind.GUARDRAILS, name="Ünïcode 名前", content="Line one.\nLine two \u2014 done.")
    ParticleFactory(kind=ParticleKind.CUSTOM)
    GlobalParticleFactory(kind=ParticleKind.TONE)
    particles = PromptParticle.objects.order_by("kind", "name", "id")

    rows = list(particles.values(*PARTICLES.columns))

    assert PARTICLES.represent(rows) == [PromptParticleSerializer(particle).data for particle in particles]


@pytest.mark.django_db
def test_timestamps_are_written_in_the_current_time_zone_as_drf_writes_them() -> None:
    particle = ParticleFactory()
    row = PromptParticle.objects.filter(pk=particle.pk).values(*PARTICLES.columns).get()

    with timezone.override(zoneinfo.ZoneInfo("Asia/Kolkata")):
        (body,) = PARTICLES.represent([row])
        expected = PromptParticleSerializer(particle).data

    assert body == expected
    assert body["createdAt"].endswith("+05:30"), body["createdAt"]


class _Everything(serializers.ModelSerializer):
    """Fields of the kinds a row writer knows, and some it leaves to the field (a decimal, a date)."""

    parentId = serializers.UUIDField(source="parent_id", allow_null=True)

    class Meta:
        model = AIModel
        fields = [
            "id",
            "name",
            "provider",
            "context_window",
            "max_tokens",
            "is_enabled",
            "credit_multiplier",
            "deprecated_at",
            "parentId",
            "created_at",
        ]


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(max_size=40),
    provider=st.none() | st.text(max_size=10),
    context_window=st.integers(min_value=0, max_value=2**31 - 1),
    max_tokens=st.none() | st.integers(min_value=0, max_value=2**31 - 1),
    is_enabled=st.booleans(),
    credit_multiplier=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("9999"), places=4),
    deprecated_at=st.none() | st.dates(),
    parent_id=st.none() | st.uuids(),
    created_at=st.datetimes(
        min_value=datetime.datetime(1971, 1, 1),
        max_value=datetime.datetime(2200, 1, 1),
        timezones=st.sampled_from([datetime.UTC, zoneinfo.ZoneInfo("America/New_York")]),
    ),
)
def test_any_row_gives_what_the_serializer_gives_its_instance(**values) -> None:
    values["id"] = uuid.uuid4()
    rows = RowRepresentation(_Everything)
    row = {column: values[column] for column in rows.columns}

    assert rows.represent([row]) == [_Everything(AIModel(**values)).data]


def test_a_field_that_is_not_one_column_is_refused() -> None:
    class Computed(serializers.ModelSerializer):
        label = serializers.SerializerMethodField()

        class Meta:
            model = PromptParticle
            fields = ["id", "label"]

        def get_label(self, obj) -> str:
            return obj.name

    class Dotted(serializers.ModelSerializer):
        parentName = serializers.CharField(source="parent.name")

        class Meta:
            model = AIModel
            fields = ["id", "parentName"]

    for serializer_class in (Computed, Dotted):
        with pytest.raises(ImproperlyConfigured, match="not a column"):
            RowRepresentation(serializer_class)


@pytest.mark.django_db
def test_the_page_reads_its_sort_fields_even_when_the_body_has_none() -> None:
    """The links' cursor needs each row's sort values: the paginator adds the order's fields to
    the columns the view asks for."""
    for number in range(3):
        ParticleFactory(name=f"Particle {number}")

    class View:
        @staticmethod
        def page_columns(part) -> tuple[str, ...]:
            return ("content",)

    paginator = Pagination()
    request = Request(APIRequestFactory().get(URL, {"limit": "2"}))
    rows = paginator.paginate_queryset(PromptParticle.objects.order_by("name"), request, View())

    assert [set(row) for row in rows] == [{"content", "name", "id"}] * 2
    assert [row["name"] for row in rows] == ["Particle 0", "Particle 1"]
    assert paginator.get_next_link() is not None


@pytest.mark.django_db
def test_the_list_gives_each_particle_the_body_its_own_read_gives(admin_client) -> None:
    ParticleFactory(kind=ParticleKind.FORMAT, name="Markdown")
    ParticleFactory(kind=ParticleKind.ROLE, name="Agent")
    GlobalParticleFactory(kind=ParticleKind.GUARDRAILS, name="Safe")

    listed = admin_client.get(URL).json()["results"]

    assert len(listed) == 3
    for body in listed:
        assert admin_client.get(f"{URL}/{body['id']}").json() == body


@pytest.mark.django_db
def test_audit_events_from_rows_are_the_serializers_bodies(admin_client) -> None:
    """The audit trail's list is built from rows too: its changed fields (a JSON list), action
    (a choice) and time written as its serializer writes them."""
    from core.api.audit import AuditEventSerializer, AuditEventViewSet
    from core.models import AuditEvent

    created = admin_client.post(URL, {"name": "Agent", "content": "You help."}, format="json").json()
    admin_client.patch(f"{URL}/{created['id']}", {"content": "You help, briefly."}, format="json")
    events = AuditEvent.objects.order_by("-occurred_at", "-id")
    rows = AuditEventViewSet.row_representation

    bodies = rows.represent(list(events.values(*rows.columns)))

    assert [body["action"] for body in bodies] == ["updated", "created"]
    assert bodies == [AuditEventSerializer(event).data for event in events]


@pytest.mark.django_db
def test_compositions_from_rows_are_the_serializers_bodies(admin_client) -> None:
    """The compositions' list is built from rows, with each page's particle ids and rendered
    prompts from one query of its items: the bodies are the serializer's, particles in position
    order (not the order they were made in), global and own alike, and an empty description too."""
    from prompts.api.serializers import PromptCompositionSerializer
    from prompts.models import PromptComposition
    from tests.factories import CompositionFactory, GlobalCompositionFactory

    first, second, third = (ParticleFactory(content=f"Part {n}.") for n in range(3))
    CompositionFactory(name="Reversed", description="Backwards.", particles=[third, second, first])
    CompositionFactory(name="One", particles=[second])
    GlobalCompositionFactory(name="Global", particles=[GlobalParticleFactory(content="Be safe.")])
    CompositionFactory(organization_id="org-b", particles=[ParticleFactory(organization_id="org-b")])

    listed = admin_client.get("/v1/prompt-compositions").json()["results"]

    visible = PromptComposition.objects.exclude(organization_id="org-b").order_by("name", "id")
    assert listed == [PromptCompositionSerializer(composition).data for composition in visible]
    reversed_body = next(body for body in listed if body["name"] == "Reversed")
    assert reversed_body["particleIds"] == [str(third.pk), str(second.pk), str(first.pk)]
    assert reversed_body["renderedPrompt"] == "Part 2.\n\nPart 1.\n\nPart 0."


def test_a_computed_field_must_be_one_of_the_serializers() -> None:
    from prompts.api.serializers import PromptCompositionSerializer

    with pytest.raises(ImproperlyConfigured, match="no readable field"):
        RowRepresentation(PromptCompositionSerializer, computed=("renderedPrompt", "particles"))
    with pytest.raises(ImproperlyConfigured, match="not a column"):
        RowRepresentation(PromptCompositionSerializer, computed=("particleIds",))
