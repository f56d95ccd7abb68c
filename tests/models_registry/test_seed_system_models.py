"""`manage.py seed_system_models`: the bundled catalog, idempotence, all-or-nothing validation."""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import AutoField, Model
from django.test.utils import CaptureQueriesContext

from models_registry import limits
from models_registry.models import AIModel
from models_registry.seeding import (
    CATALOG_FIELDS,
    CREATE_BATCH_SIZE,
    DEFAULT_CATALOG_PATH,
    HISTORY_ACTOR,
    UPDATE_BATCH_SIZE,
    load_catalog,
    seed_system_models,
)
from tests.factories import UserModelFactory

pytestmark = pytest.mark.django_db


def entry(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid catalog entry; a value of `...` removes that key."""
    data: dict[str, Any] = {
        "name": f"Model {n}",
        "description": f"Test model {n}",
        "provider": "provider-a",
        "providerModelId": f"model-{n}",
        "contextWindow": 8192,
        "maxTokens": 4096,
        "supportsStreaming": True,
        "supportsTools": True,
        "supportsVision": False,
        "supportsReasoning": False,
        "creditMultiplier": "1.5",
        "isEnabled": True,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not ...}


def write(tmp_path: Path, data: Any, name: str = "catalog.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_system_models", *args, stdout=out)
    return out.getvalue()


def seed_error(path: Path) -> str:
    with pytest.raises(CommandError) as excinfo:
        seed("--file", str(path))
    return str(excinfo.value)


def stamps() -> dict[Any, Any]:
    return dict(AIModel.objects.values_list("provider_model_id", "updated_at"))


# --- The bundled catalog -------------------------------------------------------------------


def test_bundled_catalog_is_large_varied_and_valid() -> None:
    entries = load_catalog(DEFAULT_CATALOG_PATH)

    assert len(entries) >= 15
    assert len({item["provider"] for item in entries}) >= 4
    for item in entries:
        assert item["maxTokens"] < item["contextWindow"] <= limits.CONTEXT_WINDOW_MAX
        assert item["maxTokens"] <= limits.MAX_TOKENS_MAX
    result = seed_system_models(entries, dry_run=True)  # raises if one entry fails validation
    assert (result.created, result.updated, result.unchanged) == (len(entries), 0, 0)
    assert not AIModel.objects.exists()


def test_first_run_creates_every_bundled_model_as_a_system_model() -> None:
    count = len(load_catalog(DEFAULT_CATALOG_PATH))

    out = seed()

    assert f"created {count}, updated 0, unchanged 0" in out
    assert AIModel.objects.count() == count
    assert not AIModel.objects.exclude(is_system=True, parent=None, organization_id=None).exists()
    gpt = AIModel.objects.get(provider="openai", provider_model_id="gpt-4o")
    assert (gpt.context_window, gpt.max_tokens, gpt.supports_vision) == (128000, 16384, True)


def test_second_run_changes_nothing_and_says_so() -> None:
    count = len(load_catalog(DEFAULT_CATALOG_PATH))
    seed()
    before = stamps()

    out = seed()

    assert f"created 0, updated 0, unchanged {count} (nothing to change)" in out
    assert stamps() == before


def test_a_changed_entry_is_updated_and_only_it(tmp_path: Path) -> None:
    entries = [entry(n) for n in range(1, 6)]
    path = write(tmp_path, entries)
    seed("--file", str(path))
    before = stamps()
    entries[2]["contextWindow"] = 16384
    entries[2]["supportsVision"] = True
    write(tmp_path, entries)

    out = seed("--file", str(path), "--verbosity", "2")

    assert "created 0, updated 1, unchanged 4" in out
    assert "update provider-a/model-3: contextWindow, supportsVision" in out
    after = stamps()
    assert after["model-3"] > before["model-3"]
    assert {k: v for k, v in after.items() if k != "model-3"} == {k: v for k, v in before.items() if k != "model-3"}
    changed = AIModel.objects.get(provider_model_id="model-3")
    assert (changed.context_window, changed.supports_vision) == (16384, True)


def test_new_entries_are_created_next_to_existing_ones(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1)])
    seed("--file", str(path))
    write(tmp_path, [entry(1), entry(2)])

    assert "created 1, updated 0, unchanged 1" in seed("--file", str(path))


def test_rows_missing_from_the_file_are_left_alone(tmp_path: Path) -> None:
    seed("--file", str(write(tmp_path, [entry(1), entry(2)])))

    out = seed("--file", str(write(tmp_path, [entry(2)], "smaller.json")))

    assert "created 0, updated 0, unchanged 1" in out
    assert AIModel.objects.filter(provider_model_id="model-1").exists()


def test_credit_multiplier_as_number_or_string_is_the_same_value(tmp_path: Path) -> None:
    seed("--file", str(write(tmp_path, [entry(1, creditMultiplier=2.5)])))

    out = seed("--file", str(write(tmp_path, [entry(1, creditMultiplier="2.50")])))

    assert "unchanged 1" in out
    assert str(AIModel.objects.get().credit_multiplier.normalize()) == "2.5"


def test_optional_fields_take_their_defaults(tmp_path: Path) -> None:
    optional = [key for key, spec in CATALOG_FIELDS.items() if not spec.required]
    seed("--file", str(write(tmp_path, [entry(1, **dict.fromkeys(optional, ...))])))

    row = AIModel.objects.get()
    assert row.description == ""
    assert (row.supports_streaming, row.is_enabled) == (True, True)
    assert (row.supports_tools, row.supports_vision, row.supports_reasoning) == (False, False, False)


def test_text_fields_are_trimmed_like_the_api_does(tmp_path: Path) -> None:
    seed("--file", str(write(tmp_path, [entry(1, name="  Padded  ", provider=" provider-a ")])))

    row = AIModel.objects.get()
    assert (row.name, row.provider) == ("Padded", "provider-a")


# --- All or nothing ------------------------------------------------------------------------


def test_one_bad_entry_among_good_ones_writes_nothing(tmp_path: Path) -> None:
    bad = entry(provider="provider-a", providerModelId="broken-1", name="Broken", contextWindow=0)
    path = write(tmp_path, [entry(1), bad, entry(3)])

    message = seed_error(path)

    assert "entry 2 (provider-a/broken-1): contextWindow: Ensure this value is greater than or equal to 1." in message
    assert "nothing written" in message
    assert not AIModel.objects.exists()


def test_a_bad_entry_also_blocks_updates_to_existing_rows(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1), entry(2)])
    seed("--file", str(path))
    before = stamps()
    write(tmp_path, [entry(1, contextWindow=32768), entry(2, maxTokens=0), entry(3)])

    seed_error(path)

    assert stamps() == before
    assert AIModel.objects.get(provider_model_id="model-1").context_window == 8192


def test_every_bad_entry_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1, maxTokens=0), entry(2), entry(3, creditMultiplier="-1", supportsTools="yes")])

    message = seed_error(path)

    assert "3 error(s) in 2 entries" in message
    assert "entry 1 (provider-a/model-1): maxTokens: Ensure this value is greater than or equal to 1." in message
    assert "entry 3 (provider-a/model-3): creditMultiplier: Ensure this value is greater than 0." in message
    assert "entry 3 (provider-a/model-3): supportsTools: Must be true or false (got a string)." in message


def test_the_report_is_capped(tmp_path: Path) -> None:
    message = seed_error(write(tmp_path, [entry(n, contextWindow=0) for n in range(1, 31)]))

    assert "30 error(s) in 30 entries" in message
    assert "entry 20 (" in message
    assert "entry 21 (" not in message
    assert "... and 10 more error(s)" in message


# --- Bad files -------------------------------------------------------------------------------


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


# --- Rows built on a system model ----------------------------------------------------------


def test_a_change_that_would_break_a_user_model_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1, contextWindow=128000, maxTokens=8192)])
    seed("--file", str(path))
    parent = AIModel.objects.get()
    UserModelFactory(name="Support bot", organization_id="org-a", parent=parent, context_window=100000, max_tokens=None)
    write(tmp_path, [entry(1, contextWindow=32768, maxTokens=8192, supportsStreaming=False)])

    message = seed_error(path)

    assert "entry 1 (provider-a/model-1): contextWindow: 1 user model(s) built on this model" in message
    assert "'Support bot' (org-a)" in message
    assert "supportsStreaming: 1 user model(s)" in message
    assert AIModel.objects.get(pk=parent.pk).context_window == 128000


def test_a_change_that_keeps_user_models_valid_is_applied(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1, contextWindow=128000, maxTokens=8192)])
    seed("--file", str(path))
    UserModelFactory(name="Support bot", organization_id="org-a", parent=AIModel.objects.get(), context_window=32000)
    write(tmp_path, [entry(1, contextWindow=64000, maxTokens=16000)])

    assert "updated 1" in seed("--file", str(path))


# --- Dry run ---------------------------------------------------------------------------------


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    count = len(load_catalog(DEFAULT_CATALOG_PATH))

    out = seed("--dry-run")

    assert f"dry run: would create {count}, update 0, leave 0 unchanged" in out
    assert not AIModel.objects.exists()


def test_dry_run_reports_updates_without_applying_them(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1), entry(2)])
    seed("--file", str(path))
    before = stamps()
    write(tmp_path, [entry(1, isEnabled=False), entry(2), entry(3)])

    out = seed("--file", str(path), "--dry-run")

    assert "dry run: would create 1, update 1, leave 1 unchanged" in out
    assert stamps() == before
    assert AIModel.objects.get(provider_model_id="model-1").is_enabled


def test_dry_run_still_reports_errors(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="entry 1"):
        seed("--file", str(write(tmp_path, [entry(1, maxTokens=0)])), "--dry-run")


# --- History ---------------------------------------------------------------------------------


def test_created_and_updated_models_get_a_historical_row_by_the_seed(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1), entry(2)])
    seed("--file", str(path))
    write(tmp_path, [entry(1, maxTokens=2048), entry(2)])
    seed("--file", str(path))
    seed("--file", str(path))  # unchanged: no new historical row

    changed = AIModel.objects.get(provider_model_id="model-1")
    records = list(changed.history.order_by("history_date", "history_id"))
    assert [(r.history_type, r.max_tokens) for r in records] == [("+", 4096), ("~", 2048)]
    assert {r.history_actor for r in records} == {HISTORY_ACTOR}
    assert records[-1].history_date == changed.updated_at
    assert AIModel.objects.get(provider_model_id="model-2").history.count() == 1


def test_a_dry_run_or_a_bad_catalog_adds_no_history(tmp_path: Path) -> None:
    seed("--file", str(write(tmp_path, [entry(1)])), "--dry-run")
    with pytest.raises(CommandError):
        seed("--file", str(write(tmp_path, [entry(1), entry(2, maxTokens=0)])))

    assert not AIModel.history.exists()


# --- Query counts ----------------------------------------------------------------------------


def batches(model: type[Model], count: int, batch_size: int) -> int:
    """How many INSERT statements bulk_create needs for `count` new rows of `model` on this
    backend: SQLite allows 999 parameters per statement, so fewer rows fit in one than on
    PostgreSQL. (Same field list as QuerySet.bulk_create: no auto-increment key when unset.)"""
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoField)]
    size = min(batch_size, connection.ops.bulk_batch_size(fields, [None] * count))
    return math.ceil(count / size)


def run_captured(entries: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The INSERT statements and the other statements of one seeding."""
    with CaptureQueriesContext(connection) as ctx:
        seed_system_models(entries, dry_run=False)
    statements = [query["sql"] for query in ctx.captured_queries]
    inserts = [sql for sql in statements if sql.startswith("INSERT")]
    return inserts, [sql for sql in statements if not sql.startswith("INSERT")]


def test_creating_1_or_200_models_takes_the_same_queries_but_insert_batches() -> None:
    one_inserts, one_others = run_captured([entry(1)])
    AIModel.objects.all().delete()
    many_inserts, many_others = run_captured([entry(n) for n in range(1, 201)])

    assert len(one_inserts) == 2  # the models and their historical rows
    # PostgreSQL: 1 + 1 batches, the same as for one model. SQLite: its parameter limit splits them.
    assert len(many_inserts) == batches(AIModel, 200, CREATE_BATCH_SIZE) + batches(
        AIModel.history.model, 200, CREATE_BATCH_SIZE
    )
    assert len(many_others) == len(one_others)
    assert AIModel.objects.count() == 200


def test_an_unchanged_run_takes_one_query_whatever_the_size() -> None:
    small, large = [entry(1)], [entry(n) for n in range(1, 201)]
    seed_system_models(large, dry_run=False)

    for inserts, others in (run_captured(small), run_captured(large)):
        assert inserts == []
        assert len(others) == 1
        assert others[0].startswith("SELECT")


def test_updating_1_or_100_models_takes_the_same_queries_but_insert_batches() -> None:
    entries = [entry(n) for n in range(1, 101)]
    seed_system_models(entries, dry_run=False)

    one_inserts, one_others = run_captured([entry(1, description="new"), *entries[1:]])
    many_inserts, many_others = run_captured([entry(n, description="newer") for n in range(1, 101)])

    assert UPDATE_BATCH_SIZE >= 100
    assert len(many_others) == len(one_others)  # a SELECT and a single UPDATE (plus savepoints)
    assert len(one_inserts) == 1
    assert len(many_inserts) == batches(AIModel.history.model, 100, UPDATE_BATCH_SIZE)
    assert AIModel.objects.filter(description="newer").count() == 100
