"""The freshness check of the mixed benchmark (benchmarks/mixed.py): it must see a stale body."""

import json

from benchmarks.mixed import revisions_in, stale_models


def body(*descriptions: str, page: bool = True) -> bytes:
    rows = [{"id": f"model-{n}", "description": text} for n, text in enumerate(descriptions)]
    return json.dumps({"count": len(rows), "results": rows} if page else rows[0]).encode()


def test_revisions_are_read_from_a_model_body_and_from_a_list_page():
    assert revisions_in(body("mixed revision 7", page=False)) == {"model-0": 7}
    assert revisions_in(body("mixed revision 3", "Variant 1 of organization 2.", "")) == {
        "model-0": 3,
        "model-1": -1,
        "model-2": -1,
    }


def test_a_body_older_than_an_answered_write_is_stale():
    assert stale_models(body("mixed revision 4", "mixed revision 9"), {"model-0": 5, "model-1": 9}) == 1


def test_a_body_as_new_as_the_answered_writes_or_newer_is_fresh():
    page = body("mixed revision 5", "mixed revision 12", "Variant 2 of organization 0.")
    assert stale_models(page, {"model-0": 5, "model-1": 9}) == 0


def test_a_model_never_written_is_stale_once_a_write_of_it_was_answered():
    assert stale_models(body("Variant 0 of organization 0.", page=False), {"model-0": 0}) == 1
