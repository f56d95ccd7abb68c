"""The base every API viewset stands on.

- Tenancy in one place: a viewset says which objects an organization may see
  (`visible_to`); the base applies it to every request, so no endpoint can forget it.
  Objects of another organization are not found (404). Visible global objects (system
  models, global particles) can be read by all and written by none through the API (403).
- Lost updates: responses carry an `ETag`; PATCH and DELETE honour `If-Match` (412 on a
  mismatch) and lock the row while they check and write.
- Conditional reads: every GET of an object, a list page or a version list carries a strong
  `ETag`, and `If-None-Match` answers 304 before the body is read (core/conditional.py); the
  rendered 200 is kept in the shared cache under the same digest (core/response_cache.py).
- Retries: POST honours `Idempotency-Key` (core/idempotency.py).
- CRUD once (`ResourceViewSet`): list, retrieve, create, partial update and destroy, each
  answered the same way; a resource declares its queryset rule, its serializers and the
  service calls that write (`create_object`, `update_object`, `delete_object`).
"""

import logging
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, InterfaceError, connection, transaction
from django.db.models import Model, QuerySet
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core import conditional, generations, idempotency, organizations, response_cache
from core.authentication import Principal
from core.errors import PreconditionFailed
from core.exceptions import Conflict
from core.filters import FilterBackend
from core.pagination import first_page_template
from core.serializers import RowRepresentation
from core.statements import Markers

logger = logging.getLogger("model_registry.api")

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class TenantScopedViewSet(viewsets.GenericViewSet):
    resource: str = ""
    lookup_value_regex = UUID_PATTERN
    lookup_description = "The object's id (a UUID)."  # the path parameter's, in the OpenAPI document
    read_only_global_message = "Global objects cannot be changed through the API."
    # Actions that only read their object, whatever their method (a clone copies it): a global
    # object may be their object too.
    object_reading_actions: tuple[str, ...] = ()

    def visible_to(self, organization_id: str) -> QuerySet:
        raise ImproperlyConfigured(f"{type(self).__name__} must define visible_to(organization_id).")

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and self.request is not None:
            context["organization_id"] = self.principal.organization_id
        return context

    @property
    def principal(self) -> Principal:
        user = self.request.user
        if not isinstance(user, Principal):
            raise exceptions.NotAuthenticated()
        return user

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        queryset = self.visible_to(self.principal.organization_id)
        if getattr(self, "_lock_rows", False):
            queryset = queryset.select_for_update(of=("self",))
        return queryset

    def check_object_permissions(self, request, obj: Model) -> None:
        super().check_object_permissions(request, obj)
        if (
            request.method not in SAFE_METHODS
            and self.action not in self.object_reading_actions
            and obj.organization_id != self.principal.organization_id
        ):
            raise exceptions.PermissionDenied(self.read_only_global_message)

    # --- Lost updates -------------------------------------------------------------------
    def get_object_for_update(self) -> Model:
        """The object, locked until the surrounding transaction ends, with If-Match checked."""
        if not transaction.get_connection().in_atomic_block:
            raise ImproperlyConfigured("get_object_for_update() must run inside transaction.atomic().")
        self._lock_rows = True
        try:
            obj = self.get_object()
        finally:
            self._lock_rows = False
        self.check_precondition(obj)
        return obj

    def check_precondition(self, obj: Model) -> None:
        if_match = self.request.headers.get("If-Match")
        if if_match is None:
            return
        if not conditional.if_match_allows(conditional.parse_if_match(if_match), obj):
            raise PreconditionFailed()

    def respond_with(self, obj: Model, data: dict, status: int = 200, headers: dict | None = None) -> Response:
        return Response(data, status=status, headers={"ETag": self.object_tag(obj), **(headers or {})})

    # --- Conditional reads (core/conditional.py) ---------------------------------------------
    conditional_actions: tuple[str, ...] = ("list", "retrieve", "versions")
    _generations: tuple[int, int] | None = None
    _read_context: str | None = None

    def conditional_context(self) -> tuple:
        """What this viewset's bodies depend on besides the generations and the request."""
        return ()

    def is_conditional_read(self) -> bool:
        return self.request.method in ("GET", "HEAD") and self.action in self.conditional_actions

    def generations(self) -> tuple[int, int]:
        """The organization's and the global generation: on a read, as of its start (read once,
        before the body); on a write, as of now (after its own bumps)."""
        if self.request.method not in SAFE_METHODS:
            return generations.read(self.principal.organization_id)
        if self._generations is None:
            self._generations = generations.read(self.principal.organization_id)
        return self._generations

    def context_for(self, path: str | None = None) -> str:
        """The context digest of a body served now at `path` (the request's own URL by default)."""
        return conditional.context_of(
            organization_id=self.principal.organization_id,
            generations=self.generations(),
            url=self.request.build_absolute_uri(path),
            media_type=self.request.accepted_renderer.media_type,
            extra=self.conditional_context(),
        )

    def object_tag(self, obj: Model) -> str:
        """An object's ETag: for a read, under the context read at its start; for a write's
        response, under the state the write made, at the object's URL."""
        if self._read_context is not None:
            return conditional.object_tag(obj, self._read_context)
        path = reverse(f"{self.basename}-detail", kwargs={"pk": obj.pk})
        return conditional.object_tag(obj, self.context_for(path))

    def read_context(self) -> str:
        """The context digest of this read (core.conditional), computed once, before anything else."""
        if self._read_context is None:
            self._read_context = self.context_for()
        return self._read_context

    def prefetch_cache_keys(self) -> tuple[str, ...]:
        """Read by the rate limiter's round trip to the cache (core.throttling)."""
        if response_cache.enabled() and self.is_conditional_read():
            return (response_cache.key(self.read_context()),)
        return ()

    def check_not_modified(self, request: Request) -> None:
        """Before the body is read: a 304 when If-None-Match names the current body, else the
        rendered 200 from the shared cache when it is there."""
        self._if_none_match = conditional.parse_if_none_match(request.headers.get("If-None-Match"))
        tag = conditional.current_tag(self._if_none_match, self.read_context())
        if tag is not None:
            raise conditional.Answered(conditional.not_modified(tag))
        if response_cache.enabled():
            cached = response_cache.get(
                response_cache.key(self._read_context), getattr(request, "prefetched_cache", None)
            )
            if cached is not None:
                raise conditional.Answered(cached)

    # --- Strict query strings ----------------------------------------------------------------
    paginated_actions = ("list", "versions")

    def query_parameters(self) -> tuple[set[str], set[str]]:
        """The query parameters this action reads, and those of them that may be repeated (a list
        in the schema, e.g. `ordering`): its filters on the list, its paging where it pages."""
        allowed: set[str] = set()
        repeatable: set[str] = set()
        filterset_class = getattr(self, "filterset_class", None)
        if self.action == "list" and filterset_class is not None:
            allowed.update(filterset_class.base_filters)
            repeatable.update(FilterBackend.list_parameters(filterset_class))
        if self.action in self.paginated_actions and self.paginator is not None:
            allowed.update(self.paginator.query_parameters())
        return allowed, repeatable

    def check_query_parameters(self, request: Request) -> None:
        """An unknown query parameter is a 400 naming it, not silently ignored; so is one given
        twice that is not a list. (A method the endpoint does not have is a 405 first.)"""
        if self.action is None:
            return
        allowed, repeatable = self.query_parameters()
        errors = {}
        for name in request.query_params:
            if name not in allowed:
                errors[name] = ["Unknown query parameter."]
            elif len(request.query_params.getlist(name)) > 1 and name not in repeatable:
                errors[name] = ["Given more than once; send it once."]
        if errors:
            raise exceptions.ValidationError(errors)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if not getattr(self, "swagger_fake_view", False):
            organizations.record(self.principal.organization_id, self.principal.organization_slug)
        self.check_query_parameters(request)
        if self.is_conditional_read():
            self.check_not_modified(request)
        self._idempotency = idempotency.begin(request, self.principal)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response
        if isinstance(exc, conditional.Answered):
            return exc.response()
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        if self._read_context is not None and response.status_code in (200, 304):
            if response.status_code == 200:
                if "ETag" not in response:
                    response["ETag"] = conditional.context_tag(self._read_context)
                if "*" in self._if_none_match:  # any current representation matches
                    response = conditional.not_modified(response["ETag"])
            response["Cache-Control"] = conditional.CACHE_CONTROL
            patch_vary_headers(response, ("Authorization",))
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            self._read_context is not None
            and response.status_code == 200
            and request.method == "GET"
            and isinstance(response, Response)  # rendered here, not the cache's own copy
            and response_cache.enabled()
        ):
            response.render()
            response_cache.put(response_cache.key(self._read_context), response)
        return response

    def dispatch(self, request, *args, **kwargs):
        """A POST with an `Idempotency-Key` is one transaction: the key's record and the work
        commit together, or neither does (core/idempotency.py)."""
        if not idempotency.applies(request):
            return super().dispatch(request, *args, **kwargs)
        self._idempotency = None
        try:
            with transaction.atomic():
                with transaction.atomic():
                    response = super().dispatch(request, *args, **kwargs)
                    if response.status_code >= 400:
                        transaction.set_rollback(True)  # a refused request leaves nothing behind
                pending, self._idempotency = self._idempotency, None
                if response.status_code >= 500:
                    transaction.set_rollback(True)  # nothing is stored: the retry does the work
                elif pending is not None:
                    idempotency.store(pending, response)
        except (DatabaseError, InterfaceError, Conflict) as exc:
            # Opening the transaction, storing the response or the commit failed: nothing is
            # committed, and the answer says so.
            if not isinstance(getattr(self, "request", None), Request):
                self.args, self.kwargs = args, kwargs
                self.request = self.initialize_request(request, *args, **kwargs)
                self.headers = self.default_response_headers
            response = self.finalize_response(self.request, self.handle_exception(exc), *args, **kwargs)
        return response


class ListViewSetMixin(mixins.ListModelMixin):
    # The list action, its page built from plain rows when the resource says how
    # (`row_representation`: core.serializers.RowRepresentation of its serializer, for a body that
    # is the object's own columns), else from instances by the serializer. (A comment, as
    # ResourceViewSet's: drf-spectacular would show a docstring as the description of every
    # operation that has none of its own.)

    row_representation: RowRepresentation | None = None

    def page_columns(self, part: object) -> tuple[str, ...] | None:
        """What the paginator reads of each part of a list page: the row representation's columns."""
        return self.row_representation.columns if self.row_representation is not None else None

    def list(self, request: Request, *args, **kwargs) -> Response:
        if self.row_representation is None:
            return super().list(request, *args, **kwargs)
        rows = self.read_first_page(request)
        if rows is None:
            rows = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.row_representation.represent(self.complete_rows(rows)))

    # The first page of the unfiltered list, what dashboards and gateways ask for most, in one
    # prepared statement compiled once per process (core.pagination.first_page_template), for a
    # view that says how its list is built from the request's values (`first_page_parts`).
    def first_page_key(self) -> tuple | None:
        """Which compiled statement reads this request's first page (None: the view has none)."""
        return None

    def first_page_parts(self, markers: Markers) -> tuple[QuerySet, Callable[[QuerySet, bool], QuerySet]]:
        """The list's queryset and its `partition`, built with `markers` for the request's values."""
        raise NotImplementedError

    def first_page_values(self) -> dict:
        """The request's values for the statement's markers."""
        return {"organization": self.principal.organization_id}

    def reads_plain_first_page(self, request: Request) -> bool:
        """The list's first page in its default order, nothing filtered (no cursor, no offset), on
        PostgreSQL, whose SQL the statement is written in. (SQLite cannot order and limit the parts
        of a UNION.)"""
        return set(request.query_params) <= {self.paginator.limit_query_param} and connection.vendor == "postgresql"

    def read_first_page(self, request: Request) -> "list[dict] | None":  # quoted: `list` is the action here
        """The first page's rows from the one statement, or None where it does not apply."""
        key = self.first_page_key() if self.reads_plain_first_page(request) else None
        if key is None:
            return None

        def build(markers: Markers) -> tuple:
            queryset, partition = self.first_page_parts(markers)
            return queryset, self, partition

        return self.paginator.first_page(request, first_page_template(key, build), **self.first_page_values())

    def complete_rows(self, rows: "list[dict]") -> "list[dict]":  # quoted: `list` is the action here
        """The page's rows with the values of the representation's `computed` fields (none here)."""
        return rows


class ResourceViewSet(ListViewSetMixin, TenantScopedViewSet):
    # List, read, create, change (PATCH) and delete one kind of tenant-scoped object.
    # `serializer_class` answers; `write_serializer_class` (default: the same) validates create
    # and PATCH bodies; the service calls live in `create_object`, `update_object` and
    # `delete_object`. (A comment, not a docstring: drf-spectacular would show a docstring as the
    # description of every operation that has none of its own.)

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    write_serializer_class: type | None = None

    def get_serializer_class(self):
        if self.action in ("create", "partial_update") and self.write_serializer_class is not None:
            return self.write_serializer_class
        return super().get_serializer_class()

    def create_object(self, data: dict) -> Model:
        raise NotImplementedError(f"{type(self).__name__} must define create_object(data).")

    def update_object(self, instance: Model, data: dict) -> Model:
        raise NotImplementedError(f"{type(self).__name__} must define update_object(instance, data).")

    def delete_object(self, instance: Model) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define delete_object(instance).")

    def represent(self, instance: Model) -> dict:
        """The response body of one object."""
        return self.serializer_class(instance, context=self.get_serializer_context()).data

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        instance = self.get_object()
        return self.respond_with(instance, self.represent(instance))

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.create_object(serializer.validated_data)
        location = reverse(f"{self.basename}-detail", kwargs={"pk": instance.pk}, request=request)
        return self.respond_with(
            instance, self.represent(instance), status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        with transaction.atomic():
            instance = self.get_object_for_update()
            serializer = self.get_serializer(instance, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            instance = self.update_object(instance, serializer.validated_data)
        return self.respond_with(instance, self.represent(instance))

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        with transaction.atomic():
            self.delete_object(self.get_object_for_update())
        return Response(status=status.HTTP_204_NO_CONTENT)
