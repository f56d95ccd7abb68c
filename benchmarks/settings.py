"""Settings of the benchmark server: the project's own, plus the baseline view's URL (benchmarks/urls.py).

Used only by `benchmarks/run.py` (DJANGO_SETTINGS_MODULE=benchmarks.settings); production never loads it.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
