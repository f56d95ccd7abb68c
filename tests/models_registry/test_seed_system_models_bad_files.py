"""`manage.py seed_system_models` with a bad catalog file: each problem named by entry and field, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from models_registry.models import AIModel
from models_registry.seeding import CATALOG_FIELDS
from tests.models_registry.seed_helpers import entry, seed, seed_error, write

pytestmark = pytest.mark.django_db


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in seed_error(tmp_path / "nope.json")


def test_a_missing_file_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as excinfo:
        ManagementUtility(
            ["manage.py", "seed_system_models", "--skip-checks", "--file", str(tmp_path / "nope.json")]
        ).execute()

    assert excinfo.value.code != 0
    assert "file not found" in capsys.readouterr().err


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    message = seed_error(write(tmp_path, '[\n  {"name": "x",}\n]'))

    assert "invalid JSON at line 2, column 16: Expecting property name" in message


def test_nan_is_not_json(tmp_path: Path) -> None:
    message = seed_error(write(tmp_path, '[{"creditMultiplier": NaN}]'))

    assert "invalid JSON" in message
    assert "NaN" in message


def test_top_level_must_be_a_list(tmp_path: Path) -> None:
    message = seed_error(write(tmp_path, {"models": [entry(1)]}))

    assert "the top level must be a JSON list" in message
    assert "not an object" in message


def test_an_entry_must_be_an_object(tmp_path: Path) -> None:
    message = seed_error(write(tmp_path, [entry(1), ["gpt-4o"]]))

    assert "entry 2: must be a JSON object, not a list." in message
    assert not AIModel.objects.exists()


def test_duplicate_key_in_the_file(tmp_path: Path) -> None:
    message = seed_error(write(tmp_path, [entry(1), entry(2), entry(3, providerModelId="model-1")]))

    assert "entry 3 (provider-a/model-1): duplicate of entry 1" in message
    assert not AIModel.objects.exists()


def test_duplicate_name_in_the_file_ignoring_case(tmp_path: Path) -> None:
    message = seed_error(write(tmp_path, [entry(1, name="Alpha"), entry(2, name="ALPHA")]))

    assert "entry 2 (provider-a/model-2): name: 'ALPHA' is also the name of entry 1" in message


def test_name_of_another_system_model_in_the_database(tmp_path: Path) -> None:
    seed("--file", str(write(tmp_path, [entry(1, name="Alpha")])))

    message = seed_error(write(tmp_path, [entry(2, name="alpha")], "other.json"))

    assert "entry 1 (provider-a/model-2): name: 'alpha' is already the name of the system model " in message
    assert "provider-a/model-1" in message


def test_swapping_names_in_one_run_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    """System model names are unique in the database at every moment, so a swap takes two runs."""
    path = write(tmp_path, [entry(1, name="Alpha"), entry(2, name="Beta")])
    seed("--file", str(path))
    write(tmp_path, [entry(1, name="Beta"), entry(2, name="Alpha")])

    message = seed_error(path)

    assert "name" in message.lower()
    assert sorted(AIModel.objects.filter(is_system=True).values_list("name", flat=True)) == ["Alpha", "Beta"]


def test_unknown_field_is_named(tmp_path: Path) -> None:
    message = seed_error(write(tmp_path, [entry(1, contextwindow=8192, color="blue")]))

    assert "entry 1 (provider-a/model-1): contextwindow: Unknown field (did you mean contextWindow?)." in message
    assert "entry 1 (provider-a/model-1): color: Unknown field." in message


def test_snake_case_keys_are_refused(tmp_path: Path) -> None:
    message = seed_error(write(tmp_path, [entry(1, maxTokens=..., max_tokens=4096)]))

    assert "max_tokens: Unknown field" in message
    assert "maxTokens: This field is required." in message


@pytest.mark.parametrize("key", [key for key, spec in CATALOG_FIELDS.items() if spec.required])
def test_missing_required_field(tmp_path: Path, key: str) -> None:
    message = seed_error(write(tmp_path, [entry(1, **{key: ...})]))

    assert f"{key}: This field is required." in message
    assert message.count("\n  ") == 1  # reported once, not again by the model's own checks


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("contextWindow", "abc", "contextWindow: Must be an integer (got a string)."),
        ("contextWindow", "8192", "contextWindow: Must be an integer (got a string)."),
        ("contextWindow", True, "contextWindow: Must be an integer (got a boolean)."),
        ("contextWindow", 8192.5, "contextWindow: Must be an integer (got a number)."),
        ("maxTokens", None, "maxTokens: Must be an integer (got null)."),
        ("supportsTools", "yes", "supportsTools: Must be true or false (got a string)."),
        ("supportsStreaming", 1, "supportsStreaming: Must be true or false (got a number)."),
        ("isEnabled", None, "isEnabled: Must be true or false (got null)."),
        ("name", 42, "name: Must be a string (got a number)."),
        ("provider", ["a"], "provider: Must be a string (got a list)."),
        ("description", None, "description: Must be a string (got null)."),
        (
            "creditMultiplier",
            True,
            "creditMultiplier: Must be a decimal number or a string holding one (got a boolean).",
        ),
        ("creditMultiplier", "abc", "creditMultiplier: Must be a decimal number, not 'abc'."),
        ("creditMultiplier", "Infinity", "creditMultiplier: Must be a finite decimal number."),
        ("creditMultiplier", "0.00001", "creditMultiplier: Ensure that there are no more than 4 decimal places."),
    ],
)
def test_wrong_type(tmp_path: Path, key: str, value: Any, expected: str) -> None:
    message = seed_error(write(tmp_path, [entry(1), entry(2, **{key: value})]))

    assert expected in message
    assert "entry 2" in message
    assert not AIModel.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"maxTokens": 8192}, "maxTokens: maxTokens must be below contextWindow (8192)."),
        ({"maxTokens": 9000}, "maxTokens: maxTokens must be below contextWindow (8192)."),
        ({"contextWindow": 0}, "contextWindow: Ensure this value is greater than or equal to 1."),
        ({"contextWindow": 2_000_001}, "contextWindow: Ensure this value is less than or equal to 2000000."),
        ({"maxTokens": 0}, "maxTokens: Ensure this value is greater than or equal to 1."),
        (
            {"contextWindow": 1_000_000, "maxTokens": 200_001},
            "maxTokens: Ensure this value is less than or equal to 200000.",
        ),
        ({"creditMultiplier": 0}, "creditMultiplier: Ensure this value is greater than 0."),
        ({"creditMultiplier": "-0.5"}, "creditMultiplier: Ensure this value is greater than 0."),
        ({"name": ""}, "name: This field cannot be blank."),
        ({"name": "   "}, "name: This field cannot be blank."),
        ({"name": "x" * 201}, "name: Ensure this value has at most 200 characters (it has 201)."),
        ({"provider": ""}, "provider: This field is required for a system model."),
        ({"providerModelId": "m" * 201}, "providerModelId: Ensure this value has at most 200 characters"),
        ({"description": "d" * 2001}, "description: Ensure this value has at most 2000 characters"),
    ],
)
def test_out_of_bounds(tmp_path: Path, overrides: dict[str, Any], expected: str) -> None:
    message = seed_error(write(tmp_path, [entry(1), entry(2, **overrides)]))

    assert expected in message
    assert "entry 2 (" in message
    assert not AIModel.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"contextWindow": 2, "maxTokens": 1},
        {"contextWindow": 2_000_000, "maxTokens": 200_000},
        {"name": "x"},
        {"name": "x" * 200},
        {"creditMultiplier": "0.0001"},
        {"creditMultiplier": "9999.9999"},
    ],
)
def test_bounds_are_inclusive(tmp_path: Path, overrides: dict[str, Any]) -> None:
    assert "created 1" in seed("--file", str(write(tmp_path, [entry(1, **overrides)])))
