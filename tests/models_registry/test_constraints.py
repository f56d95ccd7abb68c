"""The database refuses an inconsistent or out-of-bounds row whatever path writes it (issue 2.8).

`QuerySet.update()` and `bulk_create()` skip `full_clean()`, so only the CHECK and UNIQUE
constraints stand between them and a bad row. The last part pins each bound at min-1, min,
max and max+1 through `full_clean()`, the path the admin and the API take.

A CharField is a varchar(n) on PostgreSQL, so a name one character too long is refused there
by the column type (DataError) before the CHECK constraint is evaluated; SQLite has no such
type check and the CHECK constraint refuses it (IntegrityError).
"""

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import F

from models_registry import limits
from models_registry.models import AIModel
from prompts import limits as prompt_limits
from prompts.models import PromptComposition, PromptCompositionParticle, PromptParticle
from tests.factories import (
    CompositionFactory,
    GlobalParticleFactory,
    ParticleFactory,
    SystemModelFactory,
    UserModelFactory,
)

pytestmark = pytest.mark.django_db

SHAPE = "models_registry_aimodel_system_or_user_shape"
CONTEXT_WINDOW_RANGE = "models_registry_aimodel_context_window_range"
MAX_TOKENS_RANGE = "models_registry_aimodel_max_tokens_range"
MAX_TOKENS_BELOW_CONTEXT_WINDOW = "models_registry_aimodel_max_tokens_below_context_window"
CREDIT_MULTIPLIER_POSITIVE = "models_registry_aimodel_credit_multiplier_positive"
NOT_OWN_PARENT = "models_registry_aimodel_not_own_parent"
NAME_LENGTH = "models_registry_aimodel_name_length"
DESCRIPTION_LENGTH = "models_registry_aimodel_description_length"
OVERRIDE_LENGTH = "models_registry_aimodel_system_prompt_override_length"

TOO_LONG_NAME = "x" * (limits.NAME_MAX_LENGTH + 1)


def assert_refused(write, constraint: str | None = None, *, varchar_overflow: bool = False) -> None:
    """`write()` fails in the database; the error names the CHECK `constraint` (both SQLite and
    PostgreSQL name a failed CHECK constraint; SQLite names the columns of a failed UNIQUE one)."""
    expected = (IntegrityError, DataError) if varchar_overflow else IntegrityError
    with pytest.raises(expected) as info, transaction.atomic():
        write()
    if constraint is not None and isinstance(info.value, IntegrityError):
        assert constraint in str(info.value)


# Each case breaks exactly one constraint of a valid row of the given kind.
# The factories' rows: system context window 128,000 / max tokens 16,384; user max tokens NULL.
AI_MODEL_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("context_window_below_min", "user", {"context_window": limits.CONTEXT_WINDOW_MIN - 1}, CONTEXT_WINDOW_RANGE),
    ("context_window_above_max", "system", {"context_window": limits.CONTEXT_WINDOW_MAX + 1}, CONTEXT_WINDOW_RANGE),
    ("max_tokens_below_min", "user", {"max_tokens": limits.MAX_TOKENS_MIN - 1}, MAX_TOKENS_RANGE),
    (
        "max_tokens_above_max",
        "system",
        {"context_window": limits.CONTEXT_WINDOW_MAX, "max_tokens": limits.MAX_TOKENS_MAX + 1},
        MAX_TOKENS_RANGE,
    ),
    (
        "max_tokens_equal_to_context_window",
        "system",
        {"context_window": 8192, "max_tokens": 8192},
        MAX_TOKENS_BELOW_CONTEXT_WINDOW,
    ),
    (
        "max_tokens_above_context_window",
        "user",
        {"context_window": 1000, "max_tokens": 5000},
        MAX_TOKENS_BELOW_CONTEXT_WINDOW,
    ),
    ("credit_multiplier_zero", "system", {"credit_multiplier": Decimal("0")}, CREDIT_MULTIPLIER_POSITIVE),
    ("credit_multiplier_negative", "system", {"credit_multiplier": Decimal("-1.5")}, CREDIT_MULTIPLIER_POSITIVE),
    ("name_empty", "user", {"name": ""}, NAME_LENGTH),
    ("name_blank", "system", {"name": "   "}, NAME_LENGTH),
    ("description_too_long", "system", {"description": "d" * (limits.DESCRIPTION_MAX_LENGTH + 1)}, DESCRIPTION_LENGTH),
    (
        "override_too_long",
        "user",
        {"system_prompt_override": "p" * (limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH + 1)},
        OVERRIDE_LENGTH,
    ),
    ("system_with_organization", "system", {"organization_id": "org-a"}, SHAPE),
    ("system_without_provider", "system", {"provider": None}, SHAPE),
    ("system_without_provider_model_id", "system", {"provider_model_id": None}, SHAPE),
    ("system_without_credit_multiplier", "system", {"credit_multiplier": None}, SHAPE),
    ("system_without_max_tokens", "system", {"max_tokens": None}, SHAPE),
    ("system_without_supports_tools", "system", {"supports_tools": None}, SHAPE),
    ("user_without_organization", "user", {"organization_id": None}, SHAPE),
    ("user_without_parent", "user", {"parent": None}, SHAPE),
    ("user_with_provider", "user", {"provider": "provider-a"}, SHAPE),
    ("user_with_provider_model_id", "user", {"provider_model_id": "base-model-x"}, SHAPE),
    ("user_with_credit_multiplier", "user", {"credit_multiplier": Decimal("1.0")}, SHAPE),
    ("user_with_supports_vision", "user", {"supports_vision": True}, SHAPE),
    ("user_flagged_as_system", "user", {"is_system": True}, SHAPE),
]
AI_MODEL_CASE_IDS = [case[0] for case in AI_MODEL_CASES]


@pytest.fixture
def system_model() -> AIModel:
    return SystemModelFactory()


def _existing(kind: str, system_model: AIModel) -> AIModel:
    return system_model if kind == "system" else UserModelFactory(parent=system_model)


def _unsaved(kind: str, system_model: AIModel, **changes: Any) -> AIModel:
    row = SystemModelFactory.build() if kind == "system" else UserModelFactory.build(parent=system_model)
    for field, value in changes.items():
        setattr(row, field, value)
    return row


@pytest.mark.parametrize(("case", "kind", "changes", "constraint"), AI_MODEL_CASES, ids=AI_MODEL_CASE_IDS)
def test_queryset_update_cannot_store_an_invalid_ai_model(
    system_model: AIModel, case: str, kind: str, changes: dict[str, Any], constraint: str
) -> None:
    row = _existing(kind, system_model)

    assert_refused(lambda: AIModel.objects.filter(pk=row.pk).update(**changes), constraint)


@pytest.mark.parametrize(("case", "kind", "changes", "constraint"), AI_MODEL_CASES, ids=AI_MODEL_CASE_IDS)
def test_bulk_create_cannot_store_an_invalid_ai_model(
    system_model: AIModel, case: str, kind: str, changes: dict[str, Any], constraint: str
) -> None:
    before = AIModel.objects.count()
    row = _unsaved(kind, system_model, **changes)

    assert_refused(lambda: AIModel.objects.bulk_create([row]), constraint)
    assert AIModel.objects.count() == before


@pytest.mark.parametrize("kind", ["system", "user"])
def test_the_valid_rows_the_cases_start_from_are_accepted(system_model: AIModel, kind: str) -> None:
    """Guards the cases above: without the one change, each row is stored."""
    AIModel.objects.bulk_create([_unsaved(kind, system_model)])
    row = _existing(kind, system_model)
    AIModel.objects.filter(pk=row.pk).update(name="Still valid")


def test_name_one_character_too_long_is_refused_by_update(system_model: AIModel) -> None:
    assert_refused(
        lambda: AIModel.objects.filter(pk=system_model.pk).update(name=TOO_LONG_NAME),
        NAME_LENGTH,
        varchar_overflow=True,
    )


def test_name_one_character_too_long_is_refused_by_bulk_create(system_model: AIModel) -> None:
    row = UserModelFactory.build(parent=system_model, name=TOO_LONG_NAME)

    assert_refused(lambda: AIModel.objects.bulk_create([row]), NAME_LENGTH, varchar_overflow=True)


def test_system_model_with_a_parent_is_refused(system_model: AIModel) -> None:
    other_system = SystemModelFactory()

    assert_refused(lambda: AIModel.objects.filter(pk=system_model.pk).update(parent=other_system), SHAPE)
    assert_refused(lambda: AIModel.objects.bulk_create([SystemModelFactory.build(parent=other_system)]), SHAPE)


def test_model_cannot_be_its_own_parent(system_model: AIModel) -> None:
    user_model = UserModelFactory(parent=system_model)

    assert_refused(lambda: AIModel.objects.filter(pk=user_model.pk).update(parent_id=F("id")), NOT_OWN_PARENT)
    row = UserModelFactory.build(parent=system_model)
    row.parent_id = row.id
    assert_refused(lambda: AIModel.objects.bulk_create([row]), NOT_OWN_PARENT)


def test_user_model_name_is_unique_per_organization_ignoring_case(system_model: AIModel) -> None:
    UserModelFactory(parent=system_model, organization_id="org-a", name="Support Bot")
    other = UserModelFactory(parent=system_model, organization_id="org-a", name="Finance Bot")

    assert_refused(
        lambda: AIModel.objects.bulk_create(
            [UserModelFactory.build(parent=system_model, organization_id="org-a", name="support bot")]
        )
    )
    assert_refused(lambda: AIModel.objects.filter(pk=other.pk).update(name="SUPPORT BOT"))


def test_same_user_model_name_is_allowed_in_another_organization(system_model: AIModel) -> None:
    UserModelFactory(parent=system_model, organization_id="org-a", name="Support Bot")

    AIModel.objects.bulk_create(
        [UserModelFactory.build(parent=system_model, organization_id="org-b", name="support bot")]
    )
    UserModelFactory(parent=system_model, organization_id="org-c", name="SUPPORT BOT")

    assert AIModel.objects.filter(name__iexact="support bot").count() == 3


def test_user_model_name_may_repeat_a_system_model_name(system_model: AIModel) -> None:
    UserModelFactory(parent=system_model, organization_id="org-a", name=system_model.name.upper())


def test_system_model_name_is_unique_ignoring_case(system_model: AIModel) -> None:
    duplicate = SystemModelFactory.build(name=system_model.name.upper())

    assert_refused(lambda: AIModel.objects.bulk_create([duplicate]))
    assert_refused(lambda: AIModel.objects.filter(pk=SystemModelFactory().pk).update(name=system_model.name.lower()))


def test_system_model_provider_and_provider_model_id_are_unique(system_model: AIModel) -> None:
    duplicate = SystemModelFactory.build(
        provider=system_model.provider, provider_model_id=system_model.provider_model_id
    )

    assert_refused(lambda: AIModel.objects.bulk_create([duplicate]))


# --- prompts ------------------------------------------------------------------------------

PARTICLE_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "content_too_long",
        {"content": "c" * (prompt_limits.PARTICLE_CONTENT_MAX_LENGTH + 1)},
        "prompts_promptparticle_content_length",
    ),
    ("content_empty", {"content": ""}, "prompts_promptparticle_content_length"),
    ("content_blank", {"content": "   "}, "prompts_promptparticle_content_length"),
    (
        "system_with_organization",
        {"is_system": True, "organization_id": "org-a"},
        "prompts_promptparticle_system_xor_organization",
    ),
    (
        "organization_particle_without_organization",
        {"is_system": False, "organization_id": None},
        "prompts_promptparticle_system_xor_organization",
    ),
    ("unknown_kind", {"kind": "sarcasm"}, "prompts_promptparticle_kind_valid"),
    ("name_blank", {"name": "  "}, "prompts_promptparticle_name_length"),
]


@pytest.mark.parametrize(("case", "changes", "constraint"), PARTICLE_CASES, ids=[c[0] for c in PARTICLE_CASES])
def test_invalid_particle_is_refused_by_update_and_bulk_create(
    case: str, changes: dict[str, Any], constraint: str
) -> None:
    particle = ParticleFactory()

    assert_refused(lambda: PromptParticle.objects.filter(pk=particle.pk).update(**changes), constraint)
    assert_refused(lambda: PromptParticle.objects.bulk_create([ParticleFactory.build(**changes)]), constraint)


def test_particle_name_one_character_too_long_is_refused() -> None:
    assert_refused(
        lambda: PromptParticle.objects.bulk_create([ParticleFactory.build(name=TOO_LONG_NAME)]),
        "prompts_promptparticle_name_length",
        varchar_overflow=True,
    )


def test_particle_content_at_its_maximum_is_stored() -> None:
    PromptParticle.objects.bulk_create([ParticleFactory.build(content="c" * prompt_limits.PARTICLE_CONTENT_MAX_LENGTH)])
    GlobalParticleFactory()


COMPOSITION_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "system_with_organization",
        {"is_system": True, "organization_id": "org-a"},
        "prompts_promptcomposition_system_xor_organization",
    ),
    (
        "organization_composition_without_organization",
        {"is_system": False, "organization_id": None},
        "prompts_promptcomposition_system_xor_organization",
    ),
    ("name_blank", {"name": " "}, "prompts_promptcomposition_name_length"),
    (
        "description_too_long",
        {"description": "d" * (prompt_limits.DESCRIPTION_MAX_LENGTH + 1)},
        "prompts_promptcomposition_description_length",
    ),
]


@pytest.mark.parametrize(("case", "changes", "constraint"), COMPOSITION_CASES, ids=[c[0] for c in COMPOSITION_CASES])
def test_invalid_composition_is_refused_by_update_and_bulk_create(
    case: str, changes: dict[str, Any], constraint: str
) -> None:
    composition = CompositionFactory()

    assert_refused(lambda: PromptComposition.objects.filter(pk=composition.pk).update(**changes), constraint)
    assert_refused(lambda: PromptComposition.objects.bulk_create([CompositionFactory.build(**changes)]), constraint)


def test_composition_position_at_the_particle_limit_is_refused() -> None:
    composition = CompositionFactory()
    particle = ParticleFactory()
    position_range = "prompts_promptcompositionparticle_position_range"

    assert_refused(
        lambda: PromptCompositionParticle.objects.create(
            composition=composition, particle=particle, position=prompt_limits.COMPOSITION_PARTICLES_MAX
        ),
        position_range,
    )
    item = PromptCompositionParticle.objects.create(
        composition=composition, particle=particle, position=prompt_limits.COMPOSITION_PARTICLES_MAX - 1
    )
    assert_refused(
        lambda: PromptCompositionParticle.objects.filter(pk=item.pk).update(
            position=prompt_limits.COMPOSITION_PARTICLES_MAX
        ),
        position_range,
    )


def test_composition_position_cannot_be_negative() -> None:
    composition = CompositionFactory()
    item = PromptCompositionParticle.objects.create(composition=composition, particle=ParticleFactory(), position=0)

    assert_refused(lambda: PromptCompositionParticle.objects.filter(pk=item.pk).update(position=-1))


def test_composition_positions_and_particles_are_unique_within_a_composition() -> None:
    first, second = ParticleFactory(), ParticleFactory()
    composition = CompositionFactory(particles=[first, second])

    assert_refused(
        lambda: PromptCompositionParticle.objects.bulk_create(
            [PromptCompositionParticle(composition=composition, particle=ParticleFactory(), position=0)]
        )
    )
    assert_refused(
        lambda: PromptCompositionParticle.objects.bulk_create(
            [PromptCompositionParticle(composition=composition, particle=first, position=2)]
        )
    )


# --- each bound through full_clean() ----------------------------------------------------------


def _errors(instance: AIModel) -> dict[str, list[str]]:
    try:
        instance.full_clean()
    except ValidationError as exc:
        return exc.message_dict
    return {}


CONTEXT_WINDOW_BOUNDS = [
    (limits.CONTEXT_WINDOW_MIN - 1, False),
    (limits.CONTEXT_WINDOW_MIN, True),
    (limits.CONTEXT_WINDOW_MAX, True),
    (limits.CONTEXT_WINDOW_MAX + 1, False),
]


@pytest.mark.parametrize(("value", "valid"), CONTEXT_WINDOW_BOUNDS)
def test_full_clean_checks_context_window_bounds(value: int, valid: bool) -> None:
    # max_tokens at its own minimum; it must stay below the context window.
    model = SystemModelFactory.build(context_window=value, max_tokens=limits.MAX_TOKENS_MIN)

    errors = _errors(model)

    assert ("context_window" in errors) is not valid, errors
    if value == limits.CONTEXT_WINDOW_MAX:
        assert errors == {}


def test_context_window_at_its_minimum_leaves_no_room_for_max_tokens() -> None:
    """1 is within the context window's bound, but max tokens (at least 1) must stay below it."""
    errors = _errors(
        SystemModelFactory.build(context_window=limits.CONTEXT_WINDOW_MIN, max_tokens=limits.MAX_TOKENS_MIN)
    )

    assert set(errors) == {"max_tokens"}
    assert _errors(SystemModelFactory.build(context_window=limits.CONTEXT_WINDOW_MIN + 1, max_tokens=1)) == {}


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (limits.MAX_TOKENS_MIN - 1, False),
        (limits.MAX_TOKENS_MIN, True),
        (limits.MAX_TOKENS_MAX, True),
        (limits.MAX_TOKENS_MAX + 1, False),
    ],
)
def test_full_clean_checks_max_tokens_bounds(value: int, valid: bool) -> None:
    model = SystemModelFactory.build(context_window=limits.CONTEXT_WINDOW_MAX, max_tokens=value)

    errors = _errors(model)

    assert ("max_tokens" in errors) is not valid, errors
    if valid:
        assert errors == {}


@pytest.mark.parametrize(
    ("length", "valid"),
    [
        (limits.NAME_MIN_LENGTH - 1, False),
        (limits.NAME_MIN_LENGTH, True),
        (limits.NAME_MAX_LENGTH, True),
        (limits.NAME_MAX_LENGTH + 1, False),
    ],
)
def test_full_clean_checks_name_length(system_model: AIModel, length: int, valid: bool) -> None:
    model = UserModelFactory.build(parent=system_model, name="n" * length)

    errors = _errors(model)

    assert ("name" in errors) is not valid, errors
    if valid:
        assert errors == {}


def test_full_clean_refuses_a_blank_name(system_model: AIModel) -> None:
    # Refused by the name-length CHECK constraint, reported as a non-field error.
    assert _errors(UserModelFactory.build(parent=system_model, name="   "))


@pytest.mark.parametrize(
    ("length", "valid"),
    [
        (0, True),
        (limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH, True),
        (limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH + 1, False),
    ],
)
def test_full_clean_checks_system_prompt_override_length(system_model: AIModel, length: int, valid: bool) -> None:
    model = UserModelFactory.build(parent=system_model, system_prompt_override="p" * length)

    errors = _errors(model)

    assert ("system_prompt_override" in errors) is not valid, errors
    if valid:
        assert errors == {}


@pytest.mark.parametrize(("value", "valid"), [(Decimal("-1"), False), (Decimal("0"), False), (Decimal("0.0001"), True)])
def test_full_clean_requires_a_positive_credit_multiplier(value: Decimal, valid: bool) -> None:
    errors = _errors(SystemModelFactory.build(credit_multiplier=value))

    assert ("credit_multiplier" in errors) is not valid, errors
