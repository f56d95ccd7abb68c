"""Races on references end in a 4xx, never a 500, and leave no dangling reference: 16 threads on
PostgreSQL link a particle or a composition while another request deletes it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from rest_framework.test import APIClient

from models_registry.models import AIModel
from prompts.models import PromptComposition, PromptCompositionParticle, PromptParticle
from tests.concurrency import race
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory
from tests.hardening.conftest import COMPOSITIONS_URL, MODELS_URL, PARTICLES_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_rate_limits"),
]

THREADS = 16
# Each linking writer pauses this long between reading the referenced object and writing its link,
# and the deleter starts a little into that pause: the interleaving that used to fail at commit.
PAUSE = 0.3


def _paused(real: Callable, pause: float = PAUSE) -> Callable:
    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(pause)
        return real(*args, **kwargs)

    return slow


def _late(call: Callable[[APIClient], Any], delay: float = PAUSE / 3) -> Callable[[APIClient], Any]:
    def later(client: APIClient) -> Any:
        time.sleep(delay)
        return call(client)

    return later


@pytest.fixture(autouse=True)
def _postgresql_with_a_connection_per_thread() -> Any:
    """PostgreSQL, with a pool as large as the threads (production runs 2 threads a worker and a
    pool of 4: here one process plays every worker, and a 3 s wait for a connection would be a 503)."""
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL for {THREADS} writers in flight at once; this run uses {connection.vendor}")
    pool = connection.settings_dict["OPTIONS"].get("pool")
    if not isinstance(pool, dict):
        yield
        return
    before = dict(pool)
    connection.close()
    connection.close_pool()
    pool["max_size"] = THREADS + 2
    try:
        yield
    finally:
        connection.close()
        connection.close_pool()
        pool.clear()
        pool.update(before)


def _no_dangling_particle_references() -> None:
    assert not PromptCompositionParticle.objects.exclude(particle_id__in=PromptParticle.objects.values("pk")).exists()


def test_deleting_a_particle_while_compositions_are_created_with_it(make_token) -> None:
    particle = ParticleFactory(organization_id="org-a")
    body = {"particleIds": [str(particle.pk)]}
    creates = [
        (lambda client, n=n: client.post(COMPOSITIONS_URL, {**body, "name": f"Racer {n}"}, format="json"))
        for n in range(THREADS - 1)
    ]
    delete = [_late(lambda client: client.delete(f"{PARTICLES_URL}/{particle.pk}"))]

    from prompts import services

    with mock.patch.object(services, "_set_particles", _paused(services._set_particles)):
        *created, (delete_status, delete_body) = race(make_token, creates + delete)

    statuses = {status for status, _ in created}
    assert statuses <= {201, 400}, created
    assert delete_status in (204, 409), delete_body
    _no_dangling_particle_references()
    made = PromptComposition.objects.count()
    assert made == sum(1 for status, _ in created if status == 201)
    if delete_status == 204:
        assert made == 0 or not PromptCompositionParticle.objects.filter(particle_id=particle.pk).exists()
    for status, answer in created:
        if status == 400:
            assert list(answer["errors"]) == ["particleIds"]


def test_deleting_a_particle_while_compositions_are_changed_to_use_it(make_token) -> None:
    particle = ParticleFactory(organization_id="org-a")
    compositions = [CompositionFactory(particles=[ParticleFactory()]) for _ in range(THREADS - 1)]
    patches = [
        (
            lambda client, c=c: client.patch(
                f"{COMPOSITIONS_URL}/{c.pk}", {"particleIds": [str(particle.pk)]}, format="json"
            )
        )
        for c in compositions
    ]
    delete = [_late(lambda client: client.delete(f"{PARTICLES_URL}/{particle.pk}"))]

    from prompts import services

    with mock.patch.object(services, "_set_particles", _paused(services._set_particles)):
        *patched, (delete_status, delete_body) = race(make_token, patches + delete)

    assert {status for status, _ in patched} <= {200, 400}, patched
    assert delete_status in (204, 409), delete_body
    _no_dangling_particle_references()
    using = PromptCompositionParticle.objects.filter(particle_id=particle.pk).count()
    assert using == sum(1 for status, _ in patched if status == 200)
    assert (delete_status == 204) == (not PromptParticle.objects.filter(pk=particle.pk).exists())


def test_deleting_a_composition_while_models_are_created_with_it(make_token) -> None:
    parent = SystemModelFactory()
    composition = CompositionFactory(particles=[ParticleFactory()])
    creates = [
        (
            lambda client, n=n: client.post(
                MODELS_URL,
                {"parentId": str(parent.pk), "name": f"Racer {n}", "systemPromptCompositionId": str(composition.pk)},
                format="json",
            )
        )
        for n in range(THREADS - 1)
    ]
    # The 15 creates' own work (auth, validation) keeps both cores busy first: a longer pause.
    delete = [_late(lambda client: client.delete(f"{COMPOSITIONS_URL}/{composition.pk}"), delay=1.0)]

    from models_registry import services

    with mock.patch.object(services, "save_with_actor", _paused(services.save_with_actor, pause=2.0)):
        *created, (delete_status, delete_body) = race(make_token, creates + delete)

    assert {status for status, _ in created} <= {201, 400}, created
    assert delete_status in (204, 409), delete_body
    made = AIModel.objects.filter(is_system=False).count()
    assert made == sum(1 for status, _ in created if status == 201)
    assert (
        not AIModel.objects.exclude(system_prompt_composition=None)
        .exclude(system_prompt_composition_id__in=PromptComposition.objects.values("pk"))
        .exists()
    )
    if delete_status == 204:
        assert made == 0
    for status, answer in created:
        if status == 400:
            assert list(answer["errors"]) == ["systemPromptCompositionId"]


def test_concurrent_creates_of_one_name_make_exactly_one(make_token) -> None:
    parent = SystemModelFactory()
    creates = [
        (lambda client: client.post(MODELS_URL, {"parentId": str(parent.pk), "name": "Same name"}, format="json"))
        for _ in range(THREADS)
    ]

    results = race(make_token, creates)

    assert sorted(status for status, _ in results) == [201] + [400] * (THREADS - 1), results
    for status, body in results:
        if status == 400:  # the unique index decided, and the loser is told why
            assert body["errors"] == {"name": ["A model with this name already exists in your organization."]}
    assert AIModel.objects.filter(is_system=False, name="Same name").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_names_with_one_slug_all_succeed(make_token) -> None:
    """ "Support Bot", "support-bot", "Support  Bot!"...: different names, one slug made from them. A
    racing create that loses the slug gets the next one instead of a 400 about a field it never sent."""
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL for 16 writers in flight at once; this run uses {connection.vendor}")
    parent = SystemModelFactory()
    names = [f"Support{' ' * (n % 3 + 1)}Bot{'!' * (n // 3)}" for n in range(THREADS)]
    creates = [
        (lambda client, name=name: client.post(MODELS_URL, {"parentId": str(parent.pk), "name": name}, format="json"))
        for name in names
    ]

    results = race(make_token, creates)

    assert sorted(status for status, _ in results) == [201] * THREADS, results
    slugs = sorted(body["slug"] for _, body in results)
    assert slugs == sorted(["support-bot", *(f"support-bot-{n}" for n in range(2, THREADS + 1))])
