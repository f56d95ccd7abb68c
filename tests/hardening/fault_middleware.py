"""Faults injected into a real server process, at the moments an idempotent POST can die.

`X-Fault` names the fault:
- `kill-before-commit`: SIGKILL the worker right after the key's record is written, before the
  transaction that holds the work and the record commits;
- `kill-after-commit`: SIGKILL the worker right after that commit, before any byte of the
  response is written (what a client sees as a dropped connection on a write that happened);
- `raise-after-commit`: fail after the commit, on the way out (the client gets a 500).
"""

from __future__ import annotations

import functools
import os
import signal

from django.db import connection, transaction

RECORD_INSERT = 'INSERT INTO "models_registry_idempotencyrecord"'


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _at_the_record(fault: str, execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if sql.startswith(RECORD_INSERT):
        if fault == "kill-before-commit":
            _kill()
        elif fault == "kill-after-commit":
            transaction.on_commit(_kill)
    return result


class FaultMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fault = request.headers.get("X-Fault")
        if fault is None:
            return self.get_response(request)
        with connection.execute_wrapper(functools.partial(_at_the_record, fault)):
            response = self.get_response(request)
        if fault == "raise-after-commit":
            raise RuntimeError("injected: a failure after the commit")
        return response
