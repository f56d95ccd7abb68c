"""Moving user models from one system model to another, all or nothing (issue 16):
`services.move_user_models`, the `migrate_user_models` command and what each move leaves behind."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEvent
from models_registry import lifecycle, services
from models_registry.models import AIModel
from tests.factories import SystemModelFactory, UserModelFactory

pytestmark = pytest.mark.django_db

TODAY = lifecycle.today()


@pytest.fixture
def old_and_new() -> tuple[AIModel, AIModel]:
    new = SystemModelFactory(name="New Base", provider="acme", provider_model_id="new", context_window=64_000)
    old = SystemModelFactory(
        name="Old Base",
        provider="acme",
        provider_model_id="old",
        context_window=128_000,
        deprecated_at=TODAY - timedelta(days=1),
        successor=new,
    )
    return old, new


def _children(parent: AIModel, count: int, **fields) -> list[AIModel]:
    return [
        UserModelFactory(parent=parent, name=f"Model {i:03}", context_window=32_000, **fields) for i in range(count)
    ]


def test_a_dry_run_that_finds_one_breaking_model_among_100_names_it_and_moves_none(old_and_new) -> None:
    old, new = old_and_new
    children = _children(old, 99)
    breaking = UserModelFactory(parent=old, name="Too Wide", organization_id="org-b", context_window=100_000)

    result = services.move_user_models(source=old, target=new, actor="system:test", dry_run=True)

    assert len(result.models) == 100
    assert result.problems == [
        f"'Too Wide' (org-b, {breaking.pk}): contextWindow: Must not exceed the parent model's context window (64000)."
    ]
    assert not result.moved
    assert AIModel.objects.filter(parent=old).count() == 100
    assert all(child.history.count() == 1 for child in children[:3])


def test_without_dry_run_one_breaking_model_still_moves_none(old_and_new) -> None:
    old, new = old_and_new
    _children(old, 5)
    UserModelFactory(parent=old, name="Too Wide", context_window=100_000)
    events = AuditEvent.objects.count()

    result = services.move_user_models(source=old, target=new, actor="system:test")

    assert len(result.problems) == 1 and not result.moved
    assert AIModel.objects.filter(parent=old).count() == 6
    assert AuditEvent.objects.count() == events


def test_a_move_is_a_version_and_an_audit_event_per_model_and_bumps_each_organizations_cache(old_and_new) -> None:
    from core.models import CacheGeneration

    old, new = old_and_new
    ours = _children(old, 3)
    theirs = UserModelFactory(parent=old, organization_id="org-b", context_window=32_000)
    generations = dict(CacheGeneration.objects.values_list("scope", "value"))

    result = services.move_user_models(source=old, target=new, actor="system:test")

    assert result.moved and len(result.models) == 4
    for model in [*ours, theirs]:
        model.refresh_from_db()
        assert model.parent_id == new.pk
        latest = model.history.latest()
        assert (latest.history_actor, latest.parent_id) == ("system:test", new.pk)
        assert latest.history_change_reason == "Moved from Old Base to New Base"
        event = AuditEvent.objects.filter(object_id=model.pk).latest("occurred_at")
        assert (event.action, event.changed_fields, event.actor) == ("updated", ["parentId"], "system:test")
        assert event.organization_id == model.organization_id
    after = dict(CacheGeneration.objects.values_list("scope", "value"))
    assert after["org-a"] > generations.get("org-a", 0) and after["org-b"] > generations.get("org-b", 0)


def test_only_one_organization_moves_with_organization(old_and_new) -> None:
    old, new = old_and_new
    ours = UserModelFactory(parent=old, context_window=32_000)
    theirs = UserModelFactory(parent=old, organization_id="org-b", context_window=32_000)

    services.move_user_models(source=old, target=new, actor="system:test", organization_id="org-b")

    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.parent_id, theirs.parent_id) == (old.pk, new.pk)


def test_the_target_must_be_active(old_and_new) -> None:
    old, new = old_and_new
    _children(old, 1)
    new.deprecated_at = TODAY
    new.save()

    with pytest.raises(Exception) as refused:
        services.move_user_models(source=old, target=new, actor="system:test")

    assert "deprecated" in str(refused.value)


# --- The command ------------------------------------------------------------------------------------


def _run(*args: str) -> str:
    out = StringIO()
    call_command("migrate_user_models", *args, stdout=out)
    return out.getvalue()


def test_the_command_moves_by_provider_and_model_id_and_reports(old_and_new) -> None:
    old, new = old_and_new
    _children(old, 2)

    dry = _run("--from", "acme/old", "--to", "acme/new", "--dry-run")
    assert "would move 2 user model(s) from 'Old Base' to 'New Base'" in dry
    assert AIModel.objects.filter(parent=old).count() == 2

    done = _run("--from", str(old.pk), "--to", "New Base")
    assert "moved 2 user model(s)" in done
    assert AIModel.objects.filter(parent=new).count() == 2


def test_the_command_lists_every_problem_and_fails(old_and_new) -> None:
    old, new = old_and_new
    _children(old, 2)
    UserModelFactory(parent=old, name="Too Wide", context_window=100_000)
    UserModelFactory(parent=old, name="Too Long", context_window=32_000, max_tokens=20_000)
    new.max_tokens = 10_000
    new.save()

    with pytest.raises(CommandError) as failed:
        _run("--from", "old", "--to", "new")

    message = str(failed.value)
    assert "2 problem(s): nothing moved" in message
    assert "'Too Wide'" in message and "'Too Long'" in message and "maxTokens" in message
    assert AIModel.objects.filter(parent=old).count() == 4


@pytest.mark.parametrize("reference", ["nope", "acme/missing", "00000000-0000-0000-0000-000000000000"])
def test_the_command_refuses_an_unknown_system_model(old_and_new, reference: str) -> None:
    with pytest.raises(CommandError, match="No system models match"):
        _run("--from", reference, "--to", "acme/new")
