"""`field__any=[...]`: membership in a list as one array parameter on PostgreSQL.

`field__in=[a, b, c]` writes one placeholder per value, so the statement's text changes with the
list's length, and a prepared statement or a template (core.statements) cannot be reused for
another list. For a list of plain values, `field__any` is the condition `__in` is, as
`= ANY(%s::type[])` with the list as a single array parameter of the field's type; an empty list
matches nothing. A subquery, expressions in the list or a transform applied to both sides get `__in`'s SQL,
and so do other databases (an empty list matches nothing there too). On a relation the values
are the related ids (`parent_id__any=[...]`), not instances.
"""

from django.db.models import Field, ForeignObject
from django.db.models.lookups import In


@Field.register_lookup
@ForeignObject.register_lookup  # a relation has lookups of its own: `parent_id__any` too
class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():  # a subquery, or a list with expressions in it
            return super().as_sql(compiler, connection)
        values = [value for value in self.rhs if value is not None]  # NULL equals nothing, as for `__in`
        if self.bilateral_transforms or any(hasattr(value, "resolve_expression") for value in values):
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        params = self.batch_process_rhs(compiler, connection, values)[1] if values else []
        array_type = f"{self.lhs.output_field.db_type(connection)}[]"
        return f"{lhs} = ANY(%s::{array_type})", (*lhs_params, list(params))
