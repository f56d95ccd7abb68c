"""Benchmark `manage.py migrate_user_models` on N user models built on one system model.

    SECRET_KEY=x .venv/bin/python benchmarks/bench_move.py [--models 10000]

Database: as benchmarks/bench_seed.py (DATABASE_URL unset: a fresh temporary SQLite file,
migrated here and deleted at the end; set: that database, already migrated). Two synthetic
system models (provider "bench-move") and N user models on the first, spread over 100
organizations, are made with bulk inserts, then the command runs twice: a dry run (checks every
model, moves none) and the move (one version and one audit event per model). Everything it made
is deleted at the end. Figures go to stdout as one JSON object, and to stderr for people; exits 1
if the move misses benchmarks/report.py's TARGETS["move_s"].
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report import TARGETS  # noqa: E402  (after ROOT is on sys.path: this runs as a script)

PROVIDER = "bench-move"
ORGANIZATIONS = 100


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=10_000, help="User models to move (default: %(default)s).")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-move-"))
    fresh_sqlite = not os.environ.get("DATABASE_URL")
    if fresh_sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()

    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    from core.models import AuditEvent
    from models_registry.models import AIModel

    def cleanup() -> None:
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            ids = list(AIModel.objects.filter(parent__provider=PROVIDER).values_list("id", flat=True))
            AuditEvent.objects.filter(object_id__in=ids).delete()
            AIModel.history.model.objects.filter(id__in=ids).delete()
            AIModel.objects.filter(id__in=ids).delete()
            AIModel.objects.filter(provider=PROVIDER).delete()

    def system(name: str) -> AIModel:
        return AIModel.objects.create(
            is_system=True,
            name=name,
            provider=PROVIDER,
            provider_model_id=name.lower().replace(" ", "-"),
            slug=name.lower().replace(" ", "-"),
            context_window=128_000,
            max_tokens=16_384,
            supports_tools=True,
            supports_vision=False,
            supports_reasoning=False,
            credit_multiplier=Decimal("1"),
        )

    def run(*options: str) -> tuple[float, str]:
        out = StringIO()
        start = time.perf_counter()
        call_command(
            "migrate_user_models",
            "--from",
            f"{PROVIDER}/bench-move-old",
            "--to",
            f"{PROVIDER}/bench-move-new",
            *options,
            stdout=out,
        )
        return time.perf_counter() - start, out.getvalue().strip()

    say(f"database: {connection.vendor} ({'fresh temporary file' if fresh_sqlite else 'DATABASE_URL'})")
    try:
        if fresh_sqlite:
            call_command("migrate", verbosity=0)
        cleanup()
        old, _new = system("Bench Move Old"), system("Bench Move New")
        AIModel.objects.bulk_create(
            [
                AIModel(
                    is_system=False,
                    parent=old,
                    organization_id=f"organization-bench-move-{n % ORGANIZATIONS:03d}",
                    name=f"Bench moved {n:06d}",
                    slug=f"bench-moved-{n:06d}",
                    context_window=32_000,
                )
                for n in range(args.models)
            ],
            batch_size=500,
        )
        dry, dry_out = run("--dry-run")
        move, move_out = run()
        say(f"dry run ({args.models:,} models): {dry:.2f} s [{dry_out}]")
        say(f"move ({args.models:,} models): {move:.2f} s [{move_out}]")
        moved = AIModel.objects.filter(parent__provider_model_id="bench-move-new").count()
        events = AuditEvent.objects.filter(changed_fields=["parentId"], actor="system:migrate_user_models").count()
    finally:
        cleanup()
        connection.close()
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()

    target = TARGETS["move_s"]
    missed = [] if move < target and moved == args.models else [f"move < {target:g} s, all moved"]
    figures = {
        "database": connection.vendor,
        "models": args.models,
        "dry_run_s": dry,
        "move_s": move,
        "moved": moved,
        "audit_events": events,
        "missed": missed,
    }
    print(json.dumps(figures), flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
