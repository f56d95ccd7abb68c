"""Schemathesis against the API's own OpenAPI document, in-process through WSGI.

The document is the one the WSGI application serves at /api/schema/. Every operation in it
is exercised as an organization admin (`stytch_admin` of org-a):

- `test_api`: the examples, coverage and fuzzing phases, one subtest per operation. Generated
  ids are often those of seeded rows, so reads, changes and deletes reach real objects.
- `test_api_stateful`: for each resource, short scenarios over the links schemathesis infers
  from the document (create, then read, change, delete, read again): `use_after_free` needs them.

A failing check fails the test with schemathesis's own report and a curl command that
reproduces it. Bounded for CI: derandomized with a fixed seed, MAX_EXAMPLES fuzzed cases per
operation, STATEFUL_SCENARIOS scenarios of at most STATEFUL_MAX_STEPS calls.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.engine.errors import is_inconsistent_replay

from core.idempotency import MAX_KEY_LENGTH
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db(transaction=True)]

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "use_after_free",
]
# What counts as rejecting invalid data: schemathesis's defaults, and 412. RFC 9110 13.2.1
# evaluates If-Match before the content is processed: a stale ETag with an invalid body is a 412.
NEGATIVE_DATA_REJECTION_STATUSES = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "412",
    "415",
    "422",
    "428",
    "429",
    "5xx",
]
SEED = 20250907
MAX_EXAMPLES = 50  # fuzzed cases per operation; the examples and coverage phases are bounded by the document
STATEFUL_SCENARIOS = 60  # per resource
STATEFUL_MAX_STEPS = 10
TOKEN_TTL = 3600  # seconds: far longer than the run
KNOWN_ID_PROBABILITY = 0.5  # how often a generated id is a seeded row's rather than a random UUID

Ids = dict[str, list[str]]


def _seed_rows() -> Ids:
    """Rows the operations can find by id, grouped for the id dictionaries of `_config`."""
    system = SystemModelFactory()
    disabled_system = SystemModelFactory(is_enabled=False)
    role = ParticleFactory(kind="role")
    tone = ParticleFactory(kind="tone")
    guardrail = ParticleFactory(kind="guardrails")
    composition = CompositionFactory(particles=[role, tone])
    spare_composition = CompositionFactory(particles=[guardrail])
    with_composition = UserModelFactory(parent=system, system_prompt_composition=composition)
    with_override = UserModelFactory(parent=system, system_prompt_override="You are terse.")
    return {
        "system-model-ids": [str(system.pk)],
        "model-ids": [str(m.pk) for m in (system, disabled_system, with_composition, with_override)],
        "particle-ids": [str(p.pk) for p in (role, tone, guardrail)],
        "composition-ids": [str(c.pk) for c in (composition, spare_composition)],
    }


def _config(token: str, ids: Ids, *, path_ids: bool = True) -> schemathesis.Config:
    """The run's configuration. Ids in request bodies are often those of the seeded rows, and
    so are ids in paths unless `path_ids` is false."""

    def known(dictionary: str) -> dict[str, Any]:
        return {"dictionary": dictionary, "probability": KNOWN_ID_PROBABILITY}

    config: dict[str, Any] = {
        "seed": SEED,
        # Generation speed depends on the machine; a loaded CI runner must not fail the run.
        "suppress-health-check": ["too_slow"],
        "auth": {"openapi": {"StytchBearer": {"bearer": token}}},
        "checks": {
            "enabled": False,
            **{name: {"enabled": True} for name in CHECKS},
            "negative_data_rejection": {"expected-statuses": NEGATIVE_DATA_REJECTION_STATUSES},
        },
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": STATEFUL_MAX_STEPS},
        },
    }
    config["dictionaries"] = {name: {"values": values} for name, values in ids.items()}
    config["parameters"] = {
        "body.parentId": known("system-model-ids"),
        "body.systemPromptCompositionId": known("composition-ids"),
        "body.particleIds[*]": known("particle-ids"),
    }
    if path_ids:
        config["operations"] = [
            {"include-tag": "models", "parameters": {"path.id": known("model-ids")}},
            {"include-tag": "prompt-particles", "parameters": {"path.id": known("particle-ids")}},
            {"include-tag": "prompt-compositions", "parameters": {"path.id": known("composition-ids")}},
        ]
    return schemathesis.Config.from_dict(config)


def _load(config: schemathesis.Config) -> schemathesis.BaseSchema:
    """The document as the WSGI application serves it; requests go to the same application."""
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=config)


@pytest.fixture
def api(settings: Any, make_token: Any, no_rate_limits: None) -> Iterator[tuple[str, Ids]]:
    """An org-a admin's token and the seeded rows' ids, the application set up for a run.

    Throttling is off. Django closes the database connection after every request; the run
    keeps it open, as Django's test client does, so every request works on the test database.
    """
    settings.ALLOWED_HOSTS = ["localhost"]  # the host schemathesis's WSGI client sends
    token = make_token(org="org-a", roles=("stytch_admin",), claims_overrides={"exp": int(time.time()) + TOKEN_TTL})
    ids = _seed_rows()
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield token, ids
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(request: pytest.FixtureRequest, api: tuple[str, Ids]) -> schemathesis.BaseSchema:
    # schemathesis 4.32's lazy schemas read `Function._nodeid`, which pytest 9.2 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    token, ids = api
    return _load(_config(token, ids))


schema = schemathesis.pytest.from_fixture("api_schema")


def _fresh_idempotency_key(case: schemathesis.Case) -> None:
    """A new key for each request that sends a valid one.

    Generated keys repeat ("0" again and again), and a repeated key with another body is a
    422 by design; without this almost every POST would stop there. Invalid keys (empty, too
    long) are left alone: rejecting them is part of the test.
    """
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and 1 <= len(key) <= MAX_KEY_LENGTH:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex


@schema.parametrize()
def test_api(case: schemathesis.Case) -> None:
    _fresh_idempotency_key(case)
    case.call_and_validate()


@pytest.mark.parametrize("resource", ["models", "prompt-particles", "prompt-compositions"])
def test_api_stateful(api: tuple[str, Ids], resource: str) -> None:
    """One resource at a time, so that scenarios often create, delete and then read the same
    object. Ids in paths come from the responses along each scenario's links: seeded ids would
    replace the links' values and hide the reads that follow a delete."""
    token, ids = api
    workflows = _load(_config(token, ids, path_ids=False)).include(tag=resource)
    if resource == "models":
        # Schemathesis cannot tell that `parentId` names a system model, so it takes POST
        # /v1/models for a request bound to fail and never starts a scenario there while other
        # POSTs or the list can. Without them, scenarios start at the create.
        workflows = workflows.exclude(method="GET", path="/v1/models").exclude(path_regex="/restore$")

    class APIWorkflows(workflows.as_state_machine()):
        completed = 0

        def before_call(self, case: schemathesis.Case) -> None:
            _fresh_idempotency_key(case)

        def teardown(self) -> None:
            super().teardown()
            type(self).completed += 1

    # As schemathesis's own runner does: no shrinking (the server's state has moved on), and
    # when the draws of a scenario depend on earlier responses that have since changed,
    # Hypothesis's complaint is not a failure: the remaining scenarios run afresh.
    settings = hypothesis.settings(
        stateful_step_count=STATEFUL_MAX_STEPS,
        phases=[hypothesis.Phase.generate],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    while APIWorkflows.completed < STATEFUL_SCENARIOS:
        before = APIWorkflows.completed
        try:
            APIWorkflows.run(settings=hypothesis.settings(settings, max_examples=STATEFUL_SCENARIOS - before))
            return
        except (FlakyStrategyDefinition, AssertionError) as exc:
            if not isinstance(exc, FlakyStrategyDefinition) and not is_inconsistent_replay(exc):
                raise
            if APIWorkflows.completed == before:
                raise
