"""Clients generated from the API's own OpenAPI document send query strings the server accepts.

The server is strict (tests/hardening/test_query_strings.py): an unknown parameter is a 400, and
so is a repeated one unless the document says list (`ordering`). A client generator writes the
query string from the document, so the document must say what the server takes, and the
clients people generate from it must send that. Here, against a real HTTP server
(`live_server`) serving the document at /api/schema/, two generators' output, each through its
own HTTP stack:

- openapi-python-client (Python, httpx), generated and imported in-process;
- hey-api (@hey-api/openapi-ts with its fetch client, TypeScript under Node.js via tsx).

For each list case, both clients call the generated function with the document's parameters
(an `ordering` array, boolean filters, a search, paging, date-times with an offset), and:

- the answer is a 200 with the rows in the order asked for;
- the query string the client sent is the one the document describes: each parameter by its
  `style` and `explode` (for `ordering`, form with explode: the key repeated per value).

The npm packages are installed once per machine and lock file (tests/clients/generated.py);
this file is skipped only where npm is not on PATH.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from prompts.models import ParticleKind
from tests.clients.conftest import ServedSchema
from tests.clients.generated import HeyApiClient, PythonClient
from tests.factories import (
    AuditEventFactory,
    CompositionFactory,
    GlobalCompositionFactory,
    GlobalParticleFactory,
    ParticleFactory,
    SystemModelFactory,
    UserModelFactory,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_rate_limits")]


@dataclass(frozen=True)
class ListCase:
    id: str
    path: str
    query: dict[str, Any]  # the document's names, JSON values
    expected: list[str]  # the labels of the rows, in order
    count: int | None = field(default=None)  # the total when it differs from len(expected): paging


UTC = datetime.UTC

CASES = [
    ListCase(
        "models-ordering-filters-paging",
        "/v1/models",
        {"ordering": ["-contextWindow", "name"], "isSystem": True, "search": "client", "limit": 3, "offset": 1},
        ["Client Gamma", "Client Alpha", "Client Beta"],
        count=5,
    ),
    ListCase(
        "models-second-key-descending",
        "/v1/models",
        {"ordering": ["-contextWindow", "-name"], "isSystem": True, "supportsTools": True, "search": "client"},
        ["Client Zeta", "Client Gamma", "Client Delta", "Client Beta", "Client Alpha"],
    ),
    ListCase(
        "models-user-models",
        "/v1/models",
        {"ordering": ["contextWindow"], "isSystem": False, "isEnabled": True},
        ["Client Mine Small", "Client Mine Large"],
    ),
    ListCase(
        "particles",
        "/v1/prompt-particles",
        {"ordering": ["-name"], "isSystem": False, "kind": "role", "search": "client"},
        ["Client Role C", "Client Role B", "Client Role A"],
    ),
    ListCase(
        "compositions",
        "/v1/prompt-compositions",
        {"ordering": ["name"], "isSystem": False, "search": "Client Comp", "limit": 1, "offset": 1},
        ["Client Comp B"],
        count=3,
    ),
    ListCase(
        "audit-events-date-times-with-an-offset",
        "/v1/audit-events",
        {"objectType": "model", "since": "2026-03-01T10:30:00+02:00", "until": "2026-03-01T12:30:00+02:00"},
        ["at 09:45", "at 08:30"],
    ),
]


@pytest.fixture
def labels() -> dict[str, str]:
    """The rows the cases list, by id: their label is the name (or, for an audit event, the repr)."""
    rows = [
        SystemModelFactory(name="Client Zeta", context_window=200_000),
        SystemModelFactory(name="Client Gamma", context_window=32_768),
        # Tied on contextWindow, with ids in neither name order: only the second key orders them
        # (the id breaks ties of whatever order applies).
        SystemModelFactory(id=uuid.UUID(int=3), name="Client Alpha", context_window=8_192, max_tokens=1_024),
        SystemModelFactory(id=uuid.UUID(int=1), name="Client Beta", context_window=8_192, max_tokens=1_024),
        SystemModelFactory(id=uuid.UUID(int=2), name="Client Delta", context_window=8_192, max_tokens=1_024),
        SystemModelFactory(name="Other Large", context_window=500_000),  # search: no
    ]
    parent = rows[0]
    rows += [
        UserModelFactory(parent=parent, name="Client Mine Large", context_window=100_000),
        UserModelFactory(parent=parent, name="Client Mine Small", context_window=4_096, max_tokens=1_000),
        UserModelFactory(parent=parent, name="Client Mine Off", context_window=4_096, is_enabled=False),
        UserModelFactory(parent=parent, organization_id="org-b", name="Client Theirs", context_window=1_000),
    ]
    rows += [
        ParticleFactory(name="Client Role B"),
        ParticleFactory(name="Client Role C"),
        ParticleFactory(name="Client Role A"),
        ParticleFactory(name="Client Tone", kind=ParticleKind.TONE),
        GlobalParticleFactory(name="Client Role Global"),
        CompositionFactory(name="Client Comp C"),
        CompositionFactory(name="Client Comp A"),
        CompositionFactory(name="Client Comp B"),
        GlobalCompositionFactory(name="Client Comp Global"),
    ]
    for hour, minute in [(8, 0), (8, 30), (9, 45), (10, 30)]:  # UTC; the case asks for 08:30 to 10:30
        rows.append(
            AuditEventFactory(
                occurred_at=datetime.datetime(2026, 3, 1, hour, minute, tzinfo=UTC),
                object_type="model",
                object_repr=f"at {hour:02}:{minute:02}",
            )
        )
    rows.append(
        AuditEventFactory(occurred_at=datetime.datetime(2026, 3, 1, 9, tzinfo=UTC), object_type="prompt-particle")
    )
    return {str(row.pk): getattr(row, "name", None) or row.object_repr for row in rows}


def documented_query(schema: ServedSchema, path: str, query: dict[str, Any]) -> dict[str, list[str]]:
    """The query string the document describes for these values, as `parse_qs` reads it back.

    A parameter's `style` defaults to form and `explode` to true for form (OpenAPI 3.0.3,
    "Parameter Object"): an array is then the key repeated per value; without explode, one
    comma-separated value. A boolean is `true` or `false`.
    """
    parameters = {p["name"]: p for p in schema.document["paths"][path]["get"]["parameters"] if p["in"] == "query"}
    wire: dict[str, list[str]] = {}
    for name, value in query.items():
        assert name in parameters, f"{name} is not a query parameter of GET {path} in the document"
        style = parameters[name].get("style", "form")
        explode = parameters[name].get("explode", style == "form")
        assert style == "form", (name, style)
        values = value if isinstance(value, list) else [value]
        strings = [json_text(each) for each in values]
        wire[name] = strings if explode else [",".join(strings)]
    return wire


def json_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def operation_id(schema: ServedSchema, path: str) -> str:
    return schema.document["paths"][path]["get"]["operationId"]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_generated_client_sends_what_the_document_says_and_gets_the_order_asked_for(
    generated_client: PythonClient | HeyApiClient,
    served_schema: ServedSchema,
    live_server: Any,
    make_token: Any,
    labels: dict[str, str],
    case: ListCase,
) -> None:
    token = make_token(org="org-a", roles=("stytch_admin",))

    sent = generated_client.list(live_server.url, token, operation_id(served_schema, case.path), case.query)

    print(f"{generated_client.name} {case.id}: GET {sent.url.removeprefix(live_server.url)} -> {sent.status}")
    assert sent.status == 200, f"{generated_client.name} sent {sent.url} and got {sent.status}: {sent.body}"
    assert [labels.get(id_, id_) for id_ in sent.ids] == case.expected
    assert sent.count == (len(case.expected) if case.count is None else case.count)
    url = urlsplit(sent.url)
    assert url.path == case.path
    assert parse_qs(url.query, keep_blank_values=True, strict_parsing=True) == documented_query(
        served_schema, case.path, case.query
    ), f"{generated_client.name} sent {url.query!r}, not what the document describes"


def test_the_document_says_a_list_parameter_is_the_key_repeated(served_schema: ServedSchema) -> None:
    """Every array in a query string is form with explode (`?ordering=a&ordering=b`): the form the
    server takes as a list (core/filters.py), and the only one some generators send
    (openapi-python-client ignores `explode: false`)."""
    arrays = {
        (path, parameter["name"]): (parameter.get("style", "form"), parameter.get("explode", True))
        for path, item in served_schema.document["paths"].items()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter["schema"].get("type") == "array"
    }

    assert set(arrays) == {
        ("/v1/models", "ordering"),
        ("/v1/prompt-particles", "ordering"),
        ("/v1/prompt-compositions", "ordering"),
    }
    assert set(arrays.values()) == {("form", True)}
