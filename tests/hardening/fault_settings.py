"""Settings for a server the fault tests run and break (tests/hardening/test_killed_worker.py):
the project's own settings plus `FaultMiddleware`, which only a request carrying `X-Fault`
triggers. Never used outside those tests."""

from config.settings import *  # noqa: F403

MIDDLEWARE = ["tests.hardening.fault_middleware.FaultMiddleware", *MIDDLEWARE]  # noqa: F405
