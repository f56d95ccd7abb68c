"""/v1/models through the declarative CRUD tests (tests/api_cases.py): a user model is the organization's
own object, a system model the global one."""

from __future__ import annotations

from typing import Any

from models_registry.models import AIModel
from tests.api_cases import CRUDTestCase
from tests.factories import SystemModelFactory, UserModelFactory
from tests.models_registry.helpers import MODELS_URL, RESPONSE_FIELDS


class TestModelsCRUD(CRUDTestCase):
    url = MODELS_URL
    model = AIModel
    factory = UserModelFactory
    global_factory = SystemModelFactory
    fields = RESPONSE_FIELDS
    patch_body = {"name": "Renamed Model", "description": "Changed through the API"}

    def create_body(self) -> dict[str, Any]:
        return {"parentId": str(SystemModelFactory().pk), "name": "Created Model", "contextWindow": 32_768}
