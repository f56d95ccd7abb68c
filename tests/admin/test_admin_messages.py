"""The admin says what its help texts say: a bounded number has one range in its help text, its
HTML input's min/max and its error (from limits.py), and the rules' errors name fields by the
admin's labels, not the API's camelCase names."""

import re

import pytest

from models_registry import limits
from tests.admin.test_admin import SYSTEM_ADD_URL, form_errors, system_model_form

pytestmark = pytest.mark.django_db

BOUNDED = {
    "context_window": (limits.CONTEXT_WINDOW_MIN, limits.CONTEXT_WINDOW_MAX),
    "max_tokens": (limits.MAX_TOKENS_MIN, limits.MAX_TOKENS_MAX),
}


def stated_range(low, high) -> str:
    return f"{low:,} to {high:,}"


@pytest.mark.parametrize("field", BOUNDED)
def test_help_text_and_html_input_state_the_same_range(staff_client, field):
    low, high = BOUNDED[field]

    page = staff_client.get(SYSTEM_ADD_URL).content.decode()

    (widget,) = re.findall(rf'<input[^>]*name="{field}"[^>]*>', page)
    assert f'min="{low}"' in widget and f'max="{high}"' in widget
    (help_text,) = re.findall(rf'id="id_{field}_helptext">\s*<div>(.*?)</div>', page, flags=re.S)
    assert f"({stated_range(low, high)}" in help_text


@pytest.mark.parametrize("field", BOUNDED)
@pytest.mark.parametrize("offset", ["below", "min-1", "max+1"])
def test_every_out_of_range_value_gets_the_same_error(staff_client, field, offset):
    low, high = BOUNDED[field]
    value = {"below": -5, "min-1": low - 1, "max+1": high + 1}[offset]
    data = system_model_form(**{"context_window": str(limits.CONTEXT_WINDOW_MAX), field: str(value)})

    response = staff_client.post(SYSTEM_ADD_URL, data)

    assert form_errors(response)[field] == [f"Must be {stated_range(low, high)}."]


@pytest.mark.parametrize("field", BOUNDED)
def test_the_bounds_themselves_are_accepted(staff_client, field):
    low, high = BOUNDED[field]
    for value in (low, high):
        other = {"context_window": str(limits.CONTEXT_WINDOW_MAX), "max_tokens": "1"}
        response = staff_client.post(SYSTEM_ADD_URL, system_model_form(**{**other, field: str(value)}))
        assert field not in (form_errors(response) if response.status_code == 200 else {}), value


def test_a_rule_across_fields_names_them_by_their_admin_labels(staff_client):
    response = staff_client.post(SYSTEM_ADD_URL, system_model_form(context_window="8192", max_tokens="9000"))

    (message,) = form_errors(response)["max_tokens"]
    assert message == "Max tokens must be below context window (8192)."
    assert "maxTokens" not in response.content.decode() and "contextWindow" not in response.content.decode()
