"""Benchmark `manage.py seed_system_models` changing the limits of system models that have children.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/bench_seed_limits.py

For benchmarks/scale.py, on a database it has already filled (the bundled catalog seeded, user
models built on it): the catalog with every `maxTokens` lowered by a tenth is seeded (timed), so
every system model's child-conflict check runs over all its user models and finds none (the
scale data set keeps its user models at half their parent's max tokens and their context
windows above it); then the bundled catalog again, which puts the limits back (another
changed-limits run), under tracemalloc for its peak (tracing slows Python, so that run is not
the timed one). The process's ru_maxrss covers both. Figures: one JSON object on stdout,
e.g. {"changed_run_s": 1.2, "restore_traced_run_s": 3.4, "tracemalloc_peak_mb": 40.1,
"maxrss_mb": 120.3, "updated": 28, ...}; progress on stderr.
"""

from __future__ import annotations

import json
import os
import re
import resource
import sys
import tempfile
import time
import tracemalloc
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from models_registry.models import AIModel
    from models_registry.seeding import DEFAULT_CATALOG_PATH

    def run(path: Path) -> tuple[float, str]:
        out = StringIO()
        started = time.perf_counter()
        call_command("seed_system_models", "--file", str(path), stdout=out)
        return time.perf_counter() - started, out.getvalue().strip()

    catalog = json.loads(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))
    for entry in catalog:
        entry["maxTokens"] = max(1, entry["maxTokens"] * 9 // 10)
    rows = AIModel.objects.count()
    with tempfile.TemporaryDirectory(prefix="bench-seed-limits-") as workdir:
        changed = Path(workdir) / "catalog-lower-limits.json"
        changed.write_text(json.dumps(catalog), encoding="utf-8")
        changed_s, changed_out = run(changed)
        print(f"changed limits ({rows:,} model rows): {changed_s:.2f} s [{changed_out}]", file=sys.stderr)
        tracemalloc.start()
        restore_s, restore_out = run(DEFAULT_CATALOG_PATH)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"limits put back, traced: {restore_s:.2f} s [{restore_out}]", file=sys.stderr)
    updated = re.search(r"updated (\d+)", changed_out)
    figures = {
        "model_rows": rows,
        "changed_run_s": changed_s,
        "restore_traced_run_s": restore_s,
        "updated": int(updated.group(1)) if updated else None,
        "tracemalloc_peak_mb": peak / 1024 / 1024,
        # ru_maxrss is in kilobytes on Linux, bytes on macOS.
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        / (1024 * 1024 if sys.platform == "darwin" else 1024),
        "command_output": {"changed_run": changed_out, "restore_run": restore_out},
    }
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
