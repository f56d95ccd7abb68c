"""The seed catalog carries the lifecycle (issue 16): deprecatedAt, retiresAt and successor (by
provider and providerModelId) are read, checked like the admin checks them, written, and a second
run of the same file changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from models_registry.models import AIModel
from tests.models_registry.seed_helpers import entry, seed, seed_error, write

pytestmark = pytest.mark.django_db


def ref(n: int) -> dict[str, str]:
    return {"provider": "provider-a", "providerModelId": f"model-{n}"}


def test_the_lifecycle_fields_are_written_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    catalog = write(
        tmp_path,
        [entry(1, deprecatedAt="2026-01-01", retiresAt="2026-06-30", successor=ref(2)), entry(2)],
    )

    first = seed("--file", str(catalog))
    second = seed("--file", str(catalog))

    old, new = AIModel.objects.get(provider_model_id="model-1"), AIModel.objects.get(provider_model_id="model-2")
    assert (old.deprecated_at, old.retires_at, old.successor_id) == (date(2026, 1, 1), date(2026, 6, 30), new.pk)
    assert (new.deprecated_at, new.retires_at, new.successor_id) == (None, None, None)
    assert "created 2" in first
    assert "updated 0, unchanged 2" in second


def test_changing_only_the_successor_updates_that_row(tmp_path: Path) -> None:
    seed("--file", str(write(tmp_path, [entry(1, deprecatedAt="2026-01-01", successor=ref(2)), entry(2), entry(3)])))

    out = seed(
        "-v",
        "2",
        "--file",
        str(write(tmp_path, [entry(1, deprecatedAt="2026-01-01", successor=ref(3)), entry(2), entry(3)], "b.json")),
    )

    assert "update provider-a/model-1: successor" in out
    assert AIModel.objects.get(provider_model_id="model-1").successor.provider_model_id == "model-3"


def test_the_bundled_catalog_retires_claude_3_7_sonnet_in_favour_of_claude_sonnet_4() -> None:
    seed()

    old = AIModel.objects.get(provider_model_id="claude-3-7-sonnet-20250219")
    assert old.successor.provider_model_id == "claude-sonnet-4-20250514"
    assert old.deprecated_at <= old.retires_at


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([entry(1, successor=ref(1))], "successor: A model cannot be its own successor."),
        ([entry(1, successor=ref(9))], "successor: No system model provider-a/model-9 in the file or the database."),
        (
            [entry(1, successor=ref(2)), entry(2, deprecatedAt="2020-01-01")],
            "successor: Must be an active, enabled system model; provider-a/model-2 is deprecated.",
        ),
        (
            [entry(1, successor=ref(2)), entry(2, isEnabled=False)],
            "successor: Must be an active, enabled system model; provider-a/model-2 is disabled.",
        ),
        (
            [
                entry(1, deprecatedAt="2999-01-01", successor=ref(2)),
                entry(2, deprecatedAt="2999-01-01", successor=ref(1)),
            ],
            "successor: Successors would form a cycle: provider-a/model-1 -> provider-a/model-2 -> provider-a/model-1.",
        ),
        ([entry(1, retiresAt="2026-01-01")], "deprecatedAt: Set the deprecation day too"),
        (
            [entry(1, deprecatedAt="2026-02-01", retiresAt="2026-01-31")],
            "retiresAt: Must be on or after the deprecation day (2026-02-01).",
        ),
        ([entry(1, deprecatedAt="2026-02-30")], "deprecatedAt: Must be a date as YYYY-MM-DD, not '2026-02-30'."),
        ([entry(1, deprecatedAt="2026-2-1")], "deprecatedAt: Must be a date as YYYY-MM-DD, not '2026-2-1'."),
        ([entry(1, retiresAt=20260101)], "retiresAt: Must be a date as YYYY-MM-DD or null (got a number)."),
        ([entry(1, successor="model-2")], 'successor: Must be {"provider": "...", "providerModelId": "..."}'),
    ],
    ids=[
        "own",
        "unknown",
        "deprecated-successor",
        "disabled-successor",
        "cycle",
        "retire-without-deprecation",
        "retire-before-deprecation",
        "not-a-day",
        "not-iso",
        "number",
        "string-successor",
    ],
)
def test_a_bad_lifecycle_writes_nothing_and_says_why(tmp_path: Path, entries: list, expected: str) -> None:
    message = seed_error(write(tmp_path, entries))

    assert expected in message
    assert not AIModel.objects.filter(provider="provider-a").exists()
