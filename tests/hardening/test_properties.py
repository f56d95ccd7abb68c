"""Property tests (hypothesis): whatever a caller sends, the answer is a 2xx or a 4xx in the API's
error shape, never a 5xx.

- Every write endpoint gets any JSON body: arbitrary values (deeply nested, huge integers, lone
  surrogates, NUL, floats, wrong types) under its own field names and under random ones.
- The authentication class gets any claim set signed with the right key: registered claims of
  any JSON type, the Stytch session and organization claims with any content, any extra claims.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from core import devkeys
from models_registry import limits as model_limits
from models_registry.models import AIModel
from prompts import limits as prompt_limits
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

PROPERTY_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI never turns red by luck
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text with what breaks naive code: lone surrogates, NUL and other control characters.
hostile_text = st.text(
    alphabet=st.one_of(st.characters(), st.characters(categories=["Cs"]), st.sampled_from("\x00\x1f\u202e")),
    max_size=40,
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(hostile_text, children, max_size=4)),
    max_leaves=12,
)
deeply_nested = st.integers(min_value=1, max_value=200).map(lambda depth: json.loads("[" * depth + "]" * depth))


def _bound(low: int, high: int) -> st.SearchStrategy[int]:
    return st.sampled_from([low - 1, low, high, high + 1, 0, -1])


def _bodies(fields: dict[str, st.SearchStrategy], valid: st.SearchStrategy[dict]) -> st.SearchStrategy[Any]:
    """A valid body with some of its fields replaced (by a plausible value or any JSON at all)
    and random keys added; or any JSON document."""
    anything = {name: st.one_of(strategy, json_values, deeply_nested) for name, strategy in fields.items()}
    changed = st.tuples(
        valid,
        st.sets(st.sampled_from(sorted(fields)), max_size=len(fields)),
        st.fixed_dictionaries({}, optional=anything),
        st.dictionaries(hostile_text, json_values, max_size=2),
    ).map(
        lambda parts: {
            **parts[3],
            **{name: value for name, value in parts[0].items() if name not in parts[1]},
            **parts[2],
        }
    )
    return st.one_of(valid, changed, json_values, deeply_nested)


def _send(client: APIClient, method: str, url: str, body: Any) -> Any:
    payload = json.dumps(body)  # ensure_ascii: lone surrogates travel as \udXXX escapes, as a client would send them
    return getattr(client, method)(url, payload, content_type="application/json")


def _assert_not_a_server_error(response: Any, body: Any) -> None:
    assert response.status_code < 500, (response.status_code, body, response.content[:500])
    if response.status_code >= 400:
        error = response.json()
        assert {"status", "code", "detail"} <= set(error), error
        assert error["status"] == response.status_code


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    system = SystemModelFactory(context_window=128_000, max_tokens=16_384)
    particles = [ParticleFactory(organization_id="org-a") for _ in range(3)]
    composition = CompositionFactory(organization_id="org-a", particles=particles[:2])
    user_model = UserModelFactory(parent=system, organization_id="org-a", system_prompt_composition=composition)
    foreign = ParticleFactory(organization_id="org-b")
    return {
        "system": system,
        "particles": particles,
        "composition": composition,
        "user_model": user_model,
        "foreign": foreign,
    }


def _model_fields(world: dict[str, Any]) -> dict[str, st.SearchStrategy]:
    ids = st.sampled_from(
        [str(world["system"].pk), str(world["user_model"].pk), str(world["composition"].pk), "not-a-uuid", ""]
    )
    return {
        "parentId": ids,
        "name": st.one_of(hostile_text, st.just("x" * (model_limits.NAME_MAX_LENGTH + 1))),
        "description": hostile_text,
        "contextWindow": _bound(model_limits.CONTEXT_WINDOW_MIN, model_limits.CONTEXT_WINDOW_MAX),
        "maxTokens": _bound(model_limits.MAX_TOKENS_MIN, model_limits.MAX_TOKENS_MAX),
        "supportsStreaming": st.booleans(),
        "isEnabled": st.booleans(),
        "systemPromptCompositionId": st.one_of(ids, st.none()),
        "systemPromptOverride": hostile_text,
    }


def _particle_fields(world: dict[str, Any]) -> dict[str, st.SearchStrategy]:
    return {
        "kind": st.sampled_from(["role", "tone", "guardrails", "ROLE", ""]),
        "name": hostile_text,
        "content": st.one_of(hostile_text, st.just("y" * (prompt_limits.PARTICLE_CONTENT_MAX_LENGTH + 1))),
    }


def _composition_fields(world: dict[str, Any]) -> dict[str, st.SearchStrategy]:
    particle_ids = [str(p.pk) for p in world["particles"]] + [str(world["foreign"].pk), "nope"]
    return {
        "name": hostile_text,
        "description": hostile_text,
        "particleIds": st.lists(st.sampled_from(particle_ids), max_size=60),
    }


names = st.uuids().map(lambda value: f"Property {value}")

WRITES: dict[str, tuple[str, Callable[[dict], str], Callable[[dict], dict[str, st.SearchStrategy]], Callable]] = {
    "create-model": (
        "post",
        lambda w: "/v1/models",
        _model_fields,
        lambda w: st.fixed_dictionaries({"parentId": st.just(str(w["system"].pk)), "name": names}),
    ),
    "patch-model": (
        "patch",
        lambda w: f"/v1/models/{w['user_model'].pk}",
        _model_fields,
        lambda w: st.fixed_dictionaries({"description": hostile_text.filter(str.isprintable)}),
    ),
    "create-particle": (
        "post",
        lambda w: "/v1/prompt-particles",
        _particle_fields,
        lambda w: st.fixed_dictionaries({"kind": st.just("role"), "name": names, "content": st.just("Be kind.")}),
    ),
    "patch-particle": (
        "patch",
        lambda w: f"/v1/prompt-particles/{w['particles'][2].pk}",
        _particle_fields,
        lambda w: st.fixed_dictionaries({"name": names}),
    ),
    "create-composition": (
        "post",
        lambda w: "/v1/prompt-compositions",
        _composition_fields,
        lambda w: st.fixed_dictionaries({"name": names, "particleIds": st.just([str(w["particles"][0].pk)])}),
    ),
    "patch-composition": (
        "patch",
        lambda w: f"/v1/prompt-compositions/{w['composition'].pk}",
        _composition_fields,
        lambda w: st.fixed_dictionaries({"name": names}),
    ),
    "preview": (
        "post",
        lambda w: "/v1/prompt-compositions/preview",
        _composition_fields,
        lambda w: st.fixed_dictionaries({"particleIds": st.just([str(w["particles"][1].pk)])}),
    ),
    "restore-model-version": (
        "post",
        lambda w: f"/v1/models/{w['user_model'].pk}/versions/1/restore",
        _model_fields,
        lambda w: st.just({}),
    ),
}


@pytest.mark.parametrize("endpoint", list(WRITES))
def test_any_json_body_gets_a_2xx_or_a_4xx(admin_client: APIClient, world: dict[str, Any], endpoint: str) -> None:
    method, url_of, fields_of, valid_of = WRITES[endpoint]
    url = url_of(world)
    statuses: set[int] = set()

    @PROPERTY_SETTINGS
    @given(body=_bodies(fields_of(world), valid_of(world)))
    def check(body: Any) -> None:
        response = _send(admin_client, method, url, body)
        statuses.add(response.status_code)
        _assert_not_a_server_error(response, body)

    check()
    assert any(status < 300 for status in statuses), statuses
    if endpoint != "restore-model-version":  # it reads no body: any body restores
        assert any(400 <= status < 500 for status in statuses), statuses


# --- Authentication: any claim set, signed with the right key ----------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(header: dict[str, Any], claims: dict[str, Any], private_key: Any) -> str:
    """A JWS signed with the right key over any header and claims (PyJWT refuses to encode
    claims of the wrong type, which is exactly what a hostile issuer would send)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


REGISTERED = ["sub", "iss", "aud", "exp", "nbf", "iat", "jti", "scope", "organization_id"]
SESSION_CLAIM, ORGANIZATION_CLAIM = "https://stytch.com/session", "https://stytch.com/organization"


def _claims_strategy(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The base claims with any of them replaced by any JSON value (the Stytch objects also by
    themselves with single members replaced), some removed, and extra claims added."""
    now = int(time.time())
    times = st.integers(min_value=now - 3600, max_value=now + 3600)
    plausible = {
        # Right, nearly right, or right in the wrong JSON type (RFC 7519 wants numbers).
        **dict.fromkeys(
            ("exp", "nbf", "iat"),
            st.one_of(times, times.map(float), times.map(str), times.map(lambda t: [t]), st.booleans()),
        ),
        **{
            name: st.sampled_from([base[name], [base[name]], f"{base[name]}x", str(base[name])])
            for name in ("iss", "aud", "sub")
        },
    }
    replaced: dict[str, st.SearchStrategy] = {
        name: st.one_of(plausible.get(name, st.nothing()), json_values) for name in REGISTERED
    }
    nested = {SESSION_CLAIM: ["roles", "id", "expires_at"], ORGANIZATION_CLAIM: ["organization_id", "slug"]}
    for claim, members in nested.items():
        if claim in base:
            original = base[claim]
            replaced[claim] = st.one_of(
                json_values,
                st.fixed_dictionaries({}, optional=dict.fromkeys(members, json_values)).map(
                    lambda extra, original=original: {**original, **extra}
                ),
            )
    overrides = st.fixed_dictionaries({}, optional=replaced)
    removals = st.sets(st.sampled_from(sorted(replaced)), max_size=3)
    extras = st.dictionaries(hostile_text, json_values, max_size=2)
    return st.tuples(overrides, removals, extras).map(
        lambda parts: {
            **parts[2],
            **{name: value for name, value in {**base, **parts[0]}.items() if name not in parts[1]},
        }
    )


@pytest.mark.parametrize("kind", ["member", "m2m"])
def test_any_claim_set_signed_with_the_right_key_gets_a_2xx_or_a_4xx(
    jwt_signing_key, world: dict[str, Any], kind: str
) -> None:
    project_id = django_settings.STYTCH_PROJECT_ID
    if kind == "member":
        base = devkeys.member_claims(project_id=project_id, organization_id="org-a", roles=("stytch_admin",))
    else:
        base = devkeys.m2m_claims(project_id=project_id, organization_id="org-a")
    statuses: set[int] = set()
    body = {"parentId": str(world["system"].pk), "name": "Property Model"}

    @PROPERTY_SETTINGS
    @given(claims=_claims_strategy(base), kid=st.one_of(st.just(jwt_signing_key.kid), hostile_text, st.integers()))
    def check(claims: dict[str, Any], kid: Any) -> None:
        token = _sign({"alg": "RS256", "typ": "JWT", "kid": kid}, claims, jwt_signing_key.private_key)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        for response in (client.get("/v1/models"), _send(client, "post", "/v1/models", body)):
            statuses.add(response.status_code)
            _assert_not_a_server_error(response, claims)
        AIModel.objects.filter(name="Property Model").delete()

    check()
    assert 401 in statuses, statuses
    assert any(status < 300 for status in statuses), statuses
