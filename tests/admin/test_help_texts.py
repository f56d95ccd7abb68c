"""Help texts that name a placeholder ("member:<id>") keep it wherever they are shown as HTML:
the admin's pages and the API reference (Redoc and Swagger UI render descriptions as Markdown)."""

import pytest
from django.urls import reverse

from tests.factories import AuditEventFactory

pytestmark = pytest.mark.django_db


def test_the_audit_actor_help_keeps_its_placeholders_in_the_admin(staff_client):
    event = AuditEventFactory(actor="member:member-test-1")

    response = staff_client.get(reverse("admin:core_auditevent_change", args=[event.pk]))

    assert response.status_code == 200
    assert "&quot;member:&lt;id&gt;&quot;, &quot;m2m:&lt;client id&gt;&quot;" in response.content.decode()


def test_the_api_reference_shows_the_actor_placeholders_as_code(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    audit_list = schema["paths"]["/v1/audit-events"]["get"]
    (actor_filter,) = (parameter for parameter in audit_list["parameters"] if parameter["name"] == "actor")
    assert actor_filter["description"] == "Only events by this actor, e.g. `member:<id>`."
    actor = schema["components"]["schemas"]["AuditEvent"]["properties"]["actor"]
    assert "`member:<id>`" in actor["description"]
