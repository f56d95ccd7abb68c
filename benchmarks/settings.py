"""Settings of the benchmark server: the project's own, plus the baseline view's URL (benchmarks/urls.py)
and the response cache probe (benchmarks/cache_probe.py), innermost.

Used only by `benchmarks/run.py` (DJANGO_SETTINGS_MODULE=benchmarks.settings); production never loads it.
"""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

ROOT_URLCONF = "benchmarks.urls"
MIDDLEWARE = [*MIDDLEWARE, "benchmarks.cache_probe.ResponseCacheProbeMiddleware"]
