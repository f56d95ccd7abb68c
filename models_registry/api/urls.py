from django.urls import path
from rest_framework.routers import SimpleRouter

from models_registry.api.transfer import TransferViewSet
from models_registry.api.views import AIModelViewSet

router = SimpleRouter(trailing_slash=False)
router.register("models", AIModelViewSet, basename="models")

urlpatterns = [
    *router.urls,
    path("export", TransferViewSet.as_view({"get": "export"}), name="export"),
    path("import", TransferViewSet.as_view({"post": "import_document"}), name="import"),
]
