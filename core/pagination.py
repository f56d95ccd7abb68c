import re

from django.db.models import Count, QuerySet, Window
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Offset and limit must add up within a signed 64-bit integer, as the databases count rows.
MAX_OFFSET = 2**62

_DIGITS = re.compile(r"[0-9]+")


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`limit`/`offset` paging: 50 rows by default; a larger `limit` is capped at 200, not refused.

    A `limit` or `offset` that is not a whole number in range is a 400 naming the parameter,
    never silently replaced by the default.
    """

    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT
    limit_query_description = (
        f"How many results to return, at least 1 (default {DEFAULT_LIMIT}; values above {MAX_LIMIT} "
        f"return {MAX_LIMIT})."
    )
    offset_query_description = f"How many results to skip, 0 to {MAX_OFFSET} (default 0)."

    def paginate_queryset(self, queryset, request, view=None):
        """One query for the page and the total: `COUNT(*) OVER ()` rides along with the rows.

        Only a page past the end (no rows to carry the total) needs a separate COUNT.
        """
        if not isinstance(queryset, QuerySet) or queryset.query.distinct:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows = list(queryset.annotate(_total_rows=Window(Count("pk")))[self.offset : self.offset + self.limit])
        if rows:
            first = rows[0]
            self.count = first["_total_rows"] if isinstance(first, dict) else first._total_rows
        else:
            self.count = queryset.count() if self.offset else 0
        return rows

    def query_parameters(self) -> tuple[str, ...]:
        return (self.limit_query_param, self.offset_query_param)

    def get_limit(self, request) -> int:
        limit = self._integer_param(request, self.limit_query_param, minimum=1, message="a whole number, 1 or more")
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request) -> int:
        offset = self._integer_param(
            request,
            self.offset_query_param,
            minimum=0,
            maximum=MAX_OFFSET,
            message=f"a whole number from 0 to {MAX_OFFSET}",
        )
        return 0 if offset is None else offset

    @staticmethod
    def _integer_param(request, name: str, *, minimum: int, message: str, maximum: int | None = None) -> int | None:
        if name not in request.query_params:
            return None
        raw = request.query_params[name]
        try:
            value = int(raw) if _DIGITS.fullmatch(raw) else None
        except ValueError:  # more digits than Python converts
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            raise ValidationError({name: [f"Must be {message}."]})
        return value

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        minimums = {self.limit_query_param: 1, self.offset_query_param: 0}
        for parameter in parameters:
            parameter["schema"]["minimum"] = minimums[parameter["name"]]
            if parameter["name"] == self.offset_query_param:
                parameter["schema"]["maximum"] = MAX_OFFSET
        return parameters
