"""Catalog files and seed runs for the `seed_system_models` tests."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from models_registry.models import AIModel


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
