"""The one rule of inheritance, and its two readers: the admin (`AIModel.effective`) and the API."""

import pytest

from models_registry.api.serializers import INHERITED_WIRE_NAMES as WIRE_NAMES
from models_registry.api.serializers import represent_model
from models_registry.models import INHERITED_ALWAYS, AIModel, inherited_field_names
from tests.factories import SystemModelFactory, UserModelFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("max_tokens", "description", "expected_extra"),
    [
        (None, "", ["max_tokens", "description"]),
        (1, "", ["description"]),
        (None, "Ours.", ["max_tokens"]),
        (1, "Ours.", []),
    ],
)
def test_a_user_model_inherits_pricing_always_and_limits_only_when_it_has_none(
    max_tokens: int | None, description: str, expected_extra: list[str]
) -> None:
    inherited = inherited_field_names(is_system=False, max_tokens=max_tokens, description=description)
    assert inherited == [*INHERITED_ALWAYS, *expected_extra]


def test_a_system_model_inherits_nothing() -> None:
    assert inherited_field_names(is_system=True, max_tokens=None, description="") == []


@pytest.mark.parametrize(("max_tokens", "description"), [(None, ""), (2_048, "Our own words.")])
def test_the_admin_and_the_api_show_the_same_effective_values(max_tokens: int | None, description: str) -> None:
    parent = SystemModelFactory(max_tokens=8_192, description="The parent's words.", supports_vision=True)
    model = AIModel.objects.select_related("parent").get(
        pk=UserModelFactory(parent=parent, max_tokens=max_tokens, description=description).pk
    )
    body = represent_model(model)
    for field, wire_name in WIRE_NAMES.items():
        assert body[wire_name] == model.effective(field), field
    assert body["inheritedFields"] == [WIRE_NAMES[field] for field in model.inherited_fields]
    assert body["maxTokens"] == (8_192 if max_tokens is None else max_tokens)
    assert body["description"] == (description or "The parent's words.")
    assert body["supportsVision"] is True
