"""`field__any=[...]`: membership in a list as one array parameter on PostgreSQL.

`field__in=[a, b, c]` writes one placeholder per value, so the statement's text changes with the
list's length, and a prepared statement or a template (core.statements) cannot be reused for
another list. `field__any` is the same condition as `= ANY(%s)` with the list as a single array
parameter; an empty list matches nothing. Other databases get `__in`'s SQL (an empty list
matches nothing there too).
"""

from django.db.models import Field, ForeignObject
from django.db.models.lookups import In


@Field.register_lookup
@ForeignObject.register_lookup  # a relation has lookups of its own: `parent_id__any` too
class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            raise ValueError("`__any` takes a list of values, not a subquery (use `__in`).")
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [value for value in self.rhs if value is not None]  # NULL equals nothing, as for `__in`
        params = self.batch_process_rhs(compiler, connection, values)[1] if values else []
        return f"{lhs} = ANY(%s)", (*lhs_params, list(params))
