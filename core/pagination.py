"""List pages: keyset (cursor) paging that reads only the page it returns, and a capped total.

- `next` and `previous` carry a `cursor`: the sort values of the page's last (first) row. The
  next page is the rows after them in the list's order (`WHERE (name, id) > (...)`), read
  through the index that serves the order, so page 2,000 costs what page 1 does. Rows added
  or deleted meanwhile never shift a page: nothing is skipped or shown twice.
- `limit`/`offset` keep working for the clients that build offsets themselves; the database
  still steps over every skipped row (as ids, from the index of the order: a deferred join,
  only the page's rows read in full), so a far offset is slower (documented in the README).
- `count` is exact up to `PAGE_COUNT_CAP` rows; past it, `count` is the cap and
  `countIsEstimate` is true ("at least this many"), so no page counts more rows than that.
- What a tenant's list shows is two disjoint parts, global and its own, each with an index in
  the list's order; the view says what each is (`partition()`: the organization's part names
  the organization, for its index). Instead of one OR that the database can only sort after
  reading every visible row, a list ordered by `is_system` first (the models' default order)
  is read one part after the other, and any other order as both parts merged in one statement
  on PostgreSQL (`merged_read`; SQLite cannot order a UNION's parts: the whole list there).
- Version lists (numbered in order, which a keyset would renumber) page by offset
  (`OffsetPagination`); their links too.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
import operator
import re
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.db.models import Q, QuerySet
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core import statements
from core.limits import (
    CURSOR_MAX_LENGTH,
    PAGE_COUNT_CAP,
    PAGE_DEFAULT_LIMIT,
    PAGE_MAX_LIMIT,
    PAGE_MAX_OFFSET,
)

_DIGITS = re.compile(r"[0-9]+")
# The field a list may be split on (see the module's docstring).
PARTITION_FIELD = "is_system"

Key = tuple[str, bool]  # a field name and whether it sorts descending


class OffsetPagination(pagination.LimitOffsetPagination):
    """`limit`/`offset` paging, for lists built in Python or numbered in SQL (version lists),
    which a keyset would renumber. The same body as every list: `countIsEstimate` is false.

    A `limit` or `offset` that is not a whole number in range is a 400 naming the parameter,
    never silently replaced by the default.
    """

    default_limit = PAGE_DEFAULT_LIMIT
    max_limit = PAGE_MAX_LIMIT
    limit_query_description = (
        f"How many results to return, at least 1 (default {PAGE_DEFAULT_LIMIT}; values above {PAGE_MAX_LIMIT} "
        f"return {PAGE_MAX_LIMIT})."
    )
    offset_query_description = f"How many results to skip, 0 to {PAGE_MAX_OFFSET} (default 0)."
    count_is_estimate = False

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                "count": self.count,
                "countIsEstimate": self.count_is_estimate,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

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
            maximum=PAGE_MAX_OFFSET,
            message=f"a whole number from 0 to {PAGE_MAX_OFFSET}",
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
                parameter["schema"]["maximum"] = PAGE_MAX_OFFSET
        return parameters

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["count", "countIsEstimate", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": f"How many results the list has, exactly up to {PAGE_COUNT_CAP:,}; "
                    f"past that, {PAGE_COUNT_CAP:,} with `countIsEstimate` true.",
                    "example": 123,
                },
                "countIsEstimate": {
                    "type": "boolean",
                    "description": f"True when the list has more than {PAGE_COUNT_CAP:,} results: `count` then "
                    "says how many at least.",
                },
                "next": {**link, "description": self.next_description, "example": self.next_example},
                "previous": {**link, "description": "The page before, or null on the first."},
                "results": schema,
            },
        }

    next_description = "The next page, or null on the last."
    next_example = (
        "https://registry.example.com/v1/models/3f0c2a4e-8d1b-4c5e-9a7f-2b6d8e1c0a93/versions?limit=50&offset=50"
    )


class Pagination(OffsetPagination):
    """`cursor` (keyset) paging with `limit`, and `offset` for compatibility; a capped `count`.

    A `cursor` that does not parse, or `cursor` with `offset`, is a 400 naming `cursor`.
    """

    cursor_query_param = "cursor"
    offset_query_description = (
        f"How many results to skip, 0 to {PAGE_MAX_OFFSET} (default 0). Kept for compatibility: the database reads "
        "every row it skips, so a far offset is slow; follow `next` (a `cursor`) instead."
    )
    cursor_query_description = (
        "Where the page starts: the `cursor` of a `next` or `previous` link, as given (opaque). "
        "Reads only the page, however far into the list."
    )
    next_description = "The next page (its link carries a `cursor`), or null on the last."
    next_example = "https://registry.example.com/v1/models?cursor=WyItaXNfc3lzdGVtLG5hbWUsaWQiXQ&limit=50"

    count: int

    # --- The page -----------------------------------------------------------------------
    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        if not isinstance(queryset, QuerySet):
            raise ImproperlyConfigured(
                "Keyset paging reads a queryset; a list built in Python pages by OffsetPagination."
            )
        self.keys = sort_keys(queryset)
        cursor = self.get_cursor(request, queryset.model)
        if cursor is not None and self.offset_given(request):
            raise ValidationError({self.cursor_query_param: ["Send cursor or offset, not both."]})
        parts = partitions(queryset, self.keys, view)
        # A view may leave the columns to the read (`page_columns(value)`: the part's value, None
        # for the whole list; None back for instances), so that a part reads only what its rows
        # need, and counting a part joins nothing and can be an index-only scan.
        self.columns_of = getattr(view, "page_columns", None)
        if cursor is not None and cursor.backwards:
            # Backwards, each part reversed (a merged list's parts: `merged_read` orders them itself).
            rows = self._read(
                [(value, part if value is _MERGED else part.reverse()) for value, part in reversed(parts)], cursor
            )
            if not rows:  # nothing before it any more (deleted meanwhile): the first page
                cursor, rows = None, self._read(parts, None)
        else:
            rows = self._read(parts, cursor)
        rows = self._page(rows, cursor)
        self.count, self.count_is_estimate = self._total(parts)
        return rows

    def _page(self, rows: list, cursor: Cursor | None) -> list:
        """The page of the rows read (one more than the page when another follows), and whether
        pages come before and after it."""
        more = len(rows) > self.limit
        rows = rows[: self.limit]
        backwards = cursor is not None and cursor.backwards
        if backwards:
            rows.reverse()
        self.rows = rows
        # Forwards: more rows after the page; rows before it unless it is the first page.
        # Backwards: the rows the cursor came from after it; more before it when read.
        self.has_more = True if backwards else more
        self.has_before = more if backwards else (cursor is not None or self.offset > 0)
        return rows

    # --- The first page in one prepared statement -------------------------------------------
    def first_page(self, request, first: FirstPage, **values: Any) -> list:
        """A list's first page (`first_page_template`) with its total, from one prepared
        statement: the same rows, links and count as `paginate_queryset`'s."""
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = 0
        self.keys = first.keys
        fetched = statements.fetch_rows(first.template.sql, first.template.bind(limit=self.limit + 1, **values))
        rows: list[dict[str, Any]] = []
        total, capped = 0, False
        for row in fetched:
            part, count = row[0], row[1]
            if count is None:
                rows.append(dict(zip(first.columns[part], first.getters[part](row), strict=True)))
            else:
                total += count
                capped = capped or count > PAGE_COUNT_CAP
        rows = self._page(rows[: self.limit + 1], None)
        capped = capped or total > PAGE_COUNT_CAP
        self.count, self.count_is_estimate = (PAGE_COUNT_CAP, True) if capped else (total, False)
        return rows

    def _total(self, parts: list[tuple[Any, Any]]) -> tuple[int, bool]:
        """The capped total. A part read from its start to its end was counted as it was read;
        only the others are counted, a merged list part by part (each through its own index)."""
        total = sum(self._counted.values())
        for value, part in parts:
            if value in self._counted:
                continue
            found, capped = capped_count(*(part if value is _MERGED else [part]))
            total += found
            if capped or total > PAGE_COUNT_CAP:
                return PAGE_COUNT_CAP, True
        return total, False

    def _read(self, parts: list[tuple[Any, Any]], cursor: Cursor | None) -> list:
        """One row more than the page (to know whether another follows) from the parts in reading
        order, after the cursor or the offset. A split list's cursor names its part by its first
        value: the parts before it are skipped, the rest of its values place it in its part."""
        wanted = self.limit + 1
        rows: list = []
        skip = self.offset
        reached = cursor is None
        self._counted: dict[Any, int] = {}  # the parts read whole, and their rows
        for value, part in parts:
            if len(rows) >= wanted:
                break
            whole = reached and not skip
            one_part = value is _WHOLE or value is _MERGED
            if not reached:
                if one_part:
                    condition = keyset_q(self.keys, cursor.values, cursor.backwards)
                elif value == cursor.values[0]:
                    condition = keyset_q(self.keys[1:], cursor.values[1:], cursor.backwards)
                else:
                    continue
                part = [piece.filter(condition) for piece in part] if value is _MERGED else part.filter(condition)
                reached = True
            asked = wanted - len(rows)
            # Far into a part by offset: the rows skipped are read as ids only (from the index that
            # serves the order), and only the page's rows in full: a deferred join.
            window = (
                part.prefetch_related(None).values("pk")[skip : skip + asked] if skip and value is not _MERGED else None
            )
            columns = self.columns_of(None if one_part else value) if self.columns_of else None
            if columns:
                # The sort fields too, for the cursor of the links (`row_values`). Plain rows have
                # no instances to prefetch into: a part's prefetches (for its instances) are dropped.
                columns = tuple(dict.fromkeys((*columns, *(field for field, _ in self.keys))))
                part = [_rows(piece, columns) for piece in part] if value is _MERGED else _rows(part, columns)
            if value is _MERGED:
                found = merged_read(part, self.keys, skip, asked, backwards=cursor is not None and cursor.backwards)
            elif window is not None:
                found = list(part.filter(pk__in=window))
            else:
                found = list(part[skip : skip + asked])
            if whole and len(found) < asked:
                self._counted[value] = len(found)
            skip = max(skip - part.count(), 0) if skip and not found and not one_part else 0
            rows.extend(found)
        return rows

    # --- The links -------------------------------------------------------------------------
    def get_next_link(self) -> str | None:
        if not self.has_more or not self.rows:
            return None
        return self._link(Cursor(row_values(self.rows[-1], self.keys), backwards=False))

    def get_previous_link(self) -> str | None:
        if not self.has_before or not self.rows:
            return None
        return self._link(Cursor(row_values(self.rows[0], self.keys), backwards=True))

    def _link(self, cursor: Cursor) -> str:
        url = remove_query_param(self.request.build_absolute_uri(), self.offset_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor.encode(self.keys))

    # --- The parameters ----------------------------------------------------------------------
    def query_parameters(self) -> tuple[str, ...]:
        return (*super().query_parameters(), self.cursor_query_param)

    def offset_given(self, request) -> bool:
        return self.offset_query_param in request.query_params

    def get_cursor(self, request, model) -> Cursor | None:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        return Cursor.decode(raw, self.keys, model, name=self.cursor_query_param)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": self.cursor_query_description,
                "schema": {"type": "string", "maxLength": CURSOR_MAX_LENGTH},
            }
        )
        return parameters


# --- Sort keys and cursors ---------------------------------------------------------------------

_WHOLE = object()  # a list read in one part
_MERGED = object()  # a list read as its parts merged in its order, in one statement


def sort_keys(queryset: QuerySet) -> list[Key]:
    """The queryset's order as (field, descending) pairs, ending with the primary key so that
    every row has a place of its own (the list's filters already append it)."""
    names = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
    keys: list[Key] = []
    for name in names:
        if not isinstance(name, str) or "__" in name or name.lstrip("-") in ("?", ""):
            raise ImproperlyConfigured(f"Keyset paging orders by the model's own fields, not {name!r}.")
        field = name.lstrip("-")
        keys.append((queryset.model._meta.pk.name if field == "pk" else field, name.startswith("-")))
    pk = queryset.model._meta.pk.name
    if not any(field == pk for field, _ in keys):
        keys.append((pk, keys[-1][1] if keys else False))
    return keys


def partitions(queryset: QuerySet, keys: list[Key], view, partition=None) -> list[tuple[Any, Any]]:
    """The parts to read in order, when the view knows what each value of `is_system` is in its
    list (`partition(queryset, is_system)`, disjoint parts each with an index in its order):

    - a list sorted by `is_system` first: one part per value, one after the other;
    - else, on a database that can order and limit each part of a UNION (PostgreSQL): the parts
      merged in the list's order in one statement (`_MERGED`, `merged_read`), instead of one OR
      that the database can only sort after reading every visible row;
    - else the whole list.

    `partition` is the view's own unless given (`first_page_template` gives one of the querysets
    it compiles).
    """
    partition = partition or getattr(view, "partition", None)
    field, descending = keys[0]
    if partition is None:
        return [(_WHOLE, queryset.order_by(*_names(keys)))]
    if field == PARTITION_FIELD:
        values = (True, False) if descending else (False, True)
        return [(value, partition(queryset, value).order_by(*_names(keys[1:]))) for value in values]
    if connections[queryset.db].features.supports_slicing_ordering_in_compound:
        return [(_MERGED, [partition(queryset, value).order_by(*_names(keys)) for value in (True, False)])]
    return [(_WHOLE, queryset.order_by(*_names(keys)))]


class FirstPage:
    """A list's first page as one statement (`first_page_template`): its template, the list's
    sort keys, and each part's columns with their places in the statement's rows."""

    def __init__(
        self, template: statements.Template, keys: list[Key], columns: list[tuple[str, ...]], names: list[str]
    ) -> None:
        self.template = template
        self.keys = keys
        self.columns = columns
        # A part's values of a statement's row, in the order of its columns.
        self.getters = [_getter([names.index(column) for column in part]) for part in columns]


def _getter(indexes: list[int]) -> Any:
    getter = operator.itemgetter(*indexes)
    return getter if len(indexes) > 1 else lambda row: (getter(row),)


_FIRST_PAGES: dict[tuple, FirstPage] = {}


def first_page_template(key: tuple, build: Any) -> FirstPage:
    """A list's first page as one PostgreSQL statement, with its total, compiled once
    (core.statements.Template). The list's parts as `partitions()` reads them:

    - split by `is_system` (read one part after the other): each part's first rows through its
      own index, then the next part's;
    - merged (any other order): each part's first rows through its own index, merged in the
      list's order;

    in each case one more row than the page from each part (to know whether another page
    follows), and each part's capped count.

    `build(markers)` returns the list's queryset, its view and the view's `partition` for
    querysets built with the markers in place of the request's values (the organization, what
    it may use). The statement has a `limit` slot besides the markers': the rows wanted of each
    part (the page's limit + 1).
    `Pagination.first_page` reads it: the same rows, links and count as `paginate_queryset`
    (tests/models_registry/test_first_page.py compares the two).

    Compiled once per process for each `key` (the view's: which list, which shape of its
    querysets) and count cap (written into the statement)."""
    cached = _FIRST_PAGES.get((*key, PAGE_COUNT_CAP))
    if cached is None:
        cached = _FIRST_PAGES[(*key, PAGE_COUNT_CAP)] = _compile_first_page(build)
    return cached


def _compile_first_page(build: Any) -> FirstPage:
    found: dict[str, Any] = {}

    def compile_parts(markers: statements.Markers) -> tuple[str, list[Any]]:
        queryset, view, partition = build(markers)
        keys = sort_keys(queryset)
        parts = partitions(queryset, keys, view, partition)
        if any(value is _WHOLE for value, _ in parts):
            raise ImproperlyConfigured("A first page in one statement reads a list the view splits (`partition`).")
        connection = connections[queryset.db]
        quote = connection.ops.quote_name
        # What the statement returns as its parts (`_part`): each part of a split list, or the
        # merged list as one, with the querysets ("pieces") it reads.
        returned = [(None, part) if value is _MERGED else (value, [part]) for value, part in parts]
        columns = [
            tuple(dict.fromkeys((*view.page_columns(value), *(field for field, _ in keys)))) for value, _ in returned
        ]
        names = list(dict.fromkeys(column for part in columns for column in part))
        compiled: list[list[tuple[str, tuple]]] = []
        types: dict[str, str] = {}  # each column's type, for the NULLs of the parts without it
        for (_, pieces), part_columns in zip(returned, columns, strict=True):
            compiled.append([])
            for piece in pieces:
                rows = _rows(piece, part_columns)
                compiler = rows.query.get_compiler(using=rows.db)
                compiled[-1].append(compiler.as_sql())
                for expression, _, alias in compiler.select:
                    types.setdefault(alias, expression.output_field.db_type(connection))
        limit = statements.Slot("limit")
        selects: list[str] = []
        params: list[Any] = []
        for index, ((_, pieces), part_columns, sqls) in enumerate(zip(returned, columns, compiled, strict=True)):
            listed = ", ".join(
                quote(name) if name in part_columns else f"CAST(NULL AS {types[name]}) AS {quote(name)}"
                for name in names
            )
            read = " UNION ALL ".join(f"({sql} LIMIT %s)" for sql, _ in sqls)
            # Django's SQL, column names of the model's and types of its fields.
            selects.append(
                f"SELECT {index} AS _part, CAST(NULL AS bigint) AS _count, {listed} "  # noqa: S608
                f"FROM ({read}) AS _page{index}"
            )
            for _, piece_params in sqls:
                params.extend([*piece_params, limit])
            nulls = ", ".join(f"CAST(NULL AS {types[name]})" for name in names)
            for piece in pieces:
                counted = _capped_sql(piece)
                if counted is not None:
                    selects.append(f"SELECT {index}, COUNT(*), {nulls} FROM ({counted[0]}) AS _capped")  # noqa: S608
                    params.extend(counted[1])
        order = ", ".join(f"{quote(field)} {'DESC' if descending else 'ASC'}" for field, descending in keys)
        found.update(keys=keys, columns=columns, names=["_part", "_count", *names])
        # The parts in reading order, each in the list's order (the counts' rows, apart, too).
        return " UNION ALL ".join(selects) + f" ORDER BY _part, _count NULLS FIRST, {order}", params

    template = statements.Template.compile(compile_parts)
    return FirstPage(template, found["keys"], found["columns"], found["names"])


def _compiled(queryset: QuerySet) -> tuple[str, tuple[Any, ...]]:
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def _rows(queryset: QuerySet, columns: tuple[str, ...]) -> QuerySet:
    """The queryset as plain rows of `columns`, without the prefetches its instances would take."""
    if queryset._prefetch_related_lookups:
        queryset = queryset.prefetch_related(None)
    return queryset.values(*columns)


def merged_read(pieces: list[QuerySet], keys: list[Key], skip: int, asked: int, *, backwards: bool) -> list:
    """`asked` rows after `skip` of the parts merged in the list's order (`backwards`: reversed):
    each part's first `skip + asked` through its own index, in one UNION ALL ordered and limited
    again, one statement. The order is written out for each part and for the whole (a part's
    `reverse()` would carry over to the UNION's own ORDER BY and turn it around again)."""
    wanted = skip + asked
    order = _names([(field, descending != backwards) for field, descending in keys])
    first, *others = [piece.order_by(*order)[:wanted] for piece in pieces]
    return list(first.union(*others, all=True).order_by(*order)[skip:wanted])


def _names(keys: Sequence[Key]) -> list[str]:
    return [f"-{field}" if descending else field for field, descending in keys]


def keyset_q(keys: Sequence[Key], values: Sequence[Any], backwards: bool = False) -> Q:
    """The rows after (`backwards`: before) the given sort values in the given order.

    `(k1 > v1) OR (k1 = v1 AND ((k2 > v2) OR (k2 = v2 AND ...)))`, each `>` a `<` where the key
    descends, plus `k1 >= v1` on its own: the bound the database starts its index scan at.
    """
    condition: Q | None = None
    for (field, descending), value in reversed(list(zip(keys, values, strict=True))):
        after = Q(**{f"{field}__{'lt' if descending != backwards else 'gt'}": value})
        condition = after if condition is None else after | (Q(**{field: value}) & condition)
    first, descending = keys[0]
    return Q(**{f"{first}__{'lte' if descending != backwards else 'gte'}": values[0]}) & condition


def row_values(row: Any, keys: list[Key]) -> list[Any]:
    try:
        return [row[field] if isinstance(row, dict) else getattr(row, field) for field, _ in keys]
    except KeyError as missing:
        raise ImproperlyConfigured(f"A keyset page's rows must carry its sort field {missing}.") from None


def capped_count(*querysets: QuerySet) -> tuple[int, bool]:
    """How many rows the list (the disjoint parts of a merged list) has, counting at most one
    past the cap in each: (count, is_estimate). Parts are counted in one statement, each through
    its own index: `COUNT(*)` of a UNION ALL of their capped ids.

    Each part is compiled by Django (its filters, its parameters) and the count wrapped around
    that SQL as it is: `.count()` of a sliced or combined queryset builds and compiles a second,
    outer query around the same parts, which cost a list with a count a third of its time here."""
    parts: list[str] = []
    params: list[Any] = []
    for queryset in querysets:
        compiled = _capped_sql(queryset)
        if compiled is None:
            continue
        parts.append(compiled[0])
        params.extend(compiled[1])
    if not parts:
        return 0, False
    # Parenthesized, each part keeps its own LIMIT (PostgreSQL; SQLite counts one part only).
    union = parts[0] if len(parts) == 1 else " UNION ALL ".join(f"({sql})" for sql in parts)
    with connections[querysets[0].db].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({union}) AS capped", params)  # noqa: S608 (Django's SQL)
        found = cursor.fetchone()[0]
    return (PAGE_COUNT_CAP, True) if found > PAGE_COUNT_CAP else (found, False)


def _capped_sql(queryset: QuerySet) -> tuple[str, tuple[Any, ...]] | None:
    """The SQL of the queryset's ids, at most one past the cap; None for a filter nothing can
    match (`pk__in=[]`): no rows, no statement."""
    try:
        return _compiled(queryset.order_by().values("pk")[: PAGE_COUNT_CAP + 1])
    except EmptyResultSet:
        return None


class Cursor:
    """A position in a list: the sort values of one row, and which way to read from it.

    On the wire: URL-safe base64 of JSON `[order, values, backwards]`. The order is part of it so
    a cursor used with another `ordering` is a clear 400, not a page of the wrong rows.
    """

    def __init__(self, values: list[Any], *, backwards: bool) -> None:
        self.values = values
        self.backwards = backwards

    def encode(self, keys: list[Key]) -> str:
        payload = json.dumps([_order(keys), self.values, self.backwards], default=_jsonable, separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, raw: str, keys: list[Key], model, *, name: str) -> Cursor:
        invalid = ValidationError({name: ["Not a cursor this list gave; use a `next` or `previous` link as given."]})
        if not raw or len(raw) > CURSOR_MAX_LENGTH:
            raise invalid
        try:
            order, values, backwards = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
            raise invalid from None
        if order != _order(keys):
            raise ValidationError(
                {name: [f"This cursor is for another order ({order!r}); start again without it."]}
            ) from None
        if not isinstance(values, list) or len(values) != len(keys) or not isinstance(backwards, bool):
            raise invalid
        # The JSON values as the fields' Python values (a date-time, a UUID); null or a value the
        # field refuses is not a cursor this list gave.
        typed = []
        for value, (field, _) in zip(values, keys, strict=True):
            if value is None or isinstance(value, (list, dict)):
                raise invalid
            try:
                typed.append(model._meta.get_field(field).to_python(value))
            except (DjangoValidationError, TypeError, ValueError):
                raise invalid from None
        return cls(typed, backwards=backwards)


def _jsonable(value: Any) -> str:
    """A sort value JSON has no type for, in full: a date-time to the microsecond (Django's JSON
    encoder stops at the millisecond, and the row would then come after its own cursor)."""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    raise TypeError(f"A sort value of type {type(value).__name__} has no cursor form.")


def _order(keys: list[Key]) -> str:
    return ",".join(_names(keys))
