from drf_spectacular.generators import SchemaGenerator

from tests.auth import urls


def test_stytch_bearer_security_scheme_is_documented() -> None:
    schema = SchemaGenerator(patterns=urls.urlpatterns).get_schema(request=None, public=True)

    scheme = schema["components"]["securitySchemes"]["StytchBearer"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "JWT"
    assert scheme["description"]
    operation = schema["paths"]["/probe/models"]["get"]
    assert operation["security"] == [{"StytchBearer": []}]
