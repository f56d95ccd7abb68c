"""Gunicorn configuration for production: `gunicorn config.wsgi -c gunicorn.conf.py`.

- Workers: one process per core by default (WEB_CONCURRENCY overrides). Each also runs 2
  threads (gthread), so one request's wait on PostgreSQL or Redis lets another use the CPU.
  Measured with `make bench` on 2 cores: 2 threads gave the resolved endpoint 9.8 ms p99 at
  8 connections and 1,870 req/s; 4 threads 23-28 ms p99 at lower throughput (threads of one
  process queue on the GIL); list throughput was the same for 2 and 4. On a machine about 3x
  slower (2026-11-26), 1 thread against 2, three runs each: resolved p99 17.7-28.9 ms against
  23.0-28.8 ms, no clear difference, so 2 stay for the overlap of database waits. A sweep on
  2026-12-08 (`benchmarks/run.py --only resolved --workers W --threads T`, median p99 of 3 runs,
  in this order): 2x2 13.9 ms, 3x1 15.8, 2x1 13.6, 4x2 16.7, 4x1 21.7, 3x2 18.9, 2x2 again 18.2.
  More workers than cores lengthen the tail (the empty view's p99 too: 6.2-9.8 ms with 2
  workers, 7.3-10.1 with 3, 8.2-11.7 with 4); 1 or 2 threads differ less than the same shape
  does from one run to the next, so 2 workers of 2 threads stay.
- The psycopg pool of each process (DATABASE_POOL_MAX_SIZE) is sized to its threads, so a
  thread never waits for a connection and PostgreSQL sees workers x threads connections at most.
- Timeouts: a request that takes 30 s is stuck (the API's work is milliseconds); graceful
  shutdown lets in-flight requests finish; keep-alive suits a proxy in front.
- Threads of one worker take turns on the GIL; Python hands it over every 5 ms by default,
  which becomes the tail latency of short requests waiting behind a long one. 1 ms keeps
  the p99 of millisecond requests low at a small cost in throughput.
- Garbage collection: each worker freezes what it has loaded (`gc.freeze()` once the app is
  imported), so the collector's full passes no longer walk Django's and the app's hundred
  thousand long-lived objects in the middle of a request. Measured on the resolved endpoint
  (cache hits, 8 connections, 5 runs each, 2026-12-02): 1.78 -> 1.43 ms of server CPU a
  request, 1,046 -> 1,287 req/s, median p99 20.3 -> 16.5 ms.
- HTTP parsing: requirements.txt asks for gunicorn[fast], whose gunicorn_h1c (a C parser,
  picohttpparser) gunicorn uses when it is installed (http_parser "auto"). Side by side on
  the resolved endpoint: about 10% less worker CPU per request than the pure-Python parser
  (1.87 against 2.14 ms here) and 5-14% more req/s.
- Workers are not recycled by default: a recycle drops that worker's in-flight capacity and
  shows up as latency spikes (at ~1,000 req/s a 10,000-request limit recycles every 10 s).
  Set GUNICORN_MAX_REQUESTS if a leak ever needs bounding.
- Metrics: prometheus-client's multiprocess mode. Every worker writes its samples to files in
  PROMETHEUS_MULTIPROC_DIR (a fresh temporary directory unless set) and /metrics, in whichever
  worker answers, adds up the files of all of them (core.metrics). The directory is emptied at
  start-up, so counters start from zero with the server; a dead worker's counts stay in the sums.
"""

import gc
import multiprocessing
import os
import shutil
import sys
import tempfile
from pathlib import Path

# Before prometheus_client is imported, here or in a worker: it picks multiprocess mode on import.
metrics_dir_is_ours = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if metrics_dir_is_ours:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="model-registry-metrics-")
metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])

from prometheus_client import multiprocess  # noqa: E402 - after PROMETHEUS_MULTIPROC_DIR is set

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 2))
os.environ.setdefault("DATABASE_POOL_MAX_SIZE", str(threads))
os.environ.setdefault("DATABASE_POOL_MIN_SIZE", "1")

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
max_requests_jitter = max_requests // 10
accesslog = None  # core.middleware writes one structured access line per request
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """The samples of an earlier run would add up with this one's."""
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid, str(metrics_dir))


def on_exit(server):
    if metrics_dir_is_ours:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def post_fork(server, worker):
    sys.setswitchinterval(float(os.environ.get("GUNICORN_GIL_SWITCH_INTERVAL", "0.001")))


def post_worker_init(worker):
    """The app is loaded: what exists now lives as long as the worker (see the docstring)."""
    gc.collect()
    gc.freeze()
