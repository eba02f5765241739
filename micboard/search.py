"""Case-insensitive search beyond ASCII on SQLite, as PostgreSQL does it already.

SQLite's LIKE and lower() fold only A-Z, so "ZOË" would not find "zoë". Each SQLite
connection gets a Python lower() as an SQL function, and `icontains` on text columns
lowers both sides with it there; on PostgreSQL `icontains` stays Django's own (UPPER ...
LIKE UPPER, which folds every letter). Still one query, and every search of the site and the
Django admin goes through it.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import CharField, TextField
from django.db.models.lookups import IContains
from django.db.models.sql.compiler import SQLCompiler

SQLITE_LOWER = "micboard_lower"


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class UnicodeIContains(IContains):
    """`icontains` that folds every letter's case on SQLite too."""

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        if not self.rhs_is_direct_value() or self.bilateral_transforms:
            return self.as_sql(compiler, connection)  # a column on the right: Django's own
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        # The pattern is lowered here, once; its % and \ escapes are not letters.
        params = (*lhs_params, *(_lower(param) for param in rhs_params))
        return f"{SQLITE_LOWER}({lhs_sql}) LIKE {rhs_sql} ESCAPE '\\'", params


def _add_sqlite_lower(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_LOWER, 1, _lower, deterministic=True)


def install() -> None:
    """Register the lookup and the SQLite function (from the app's ready())."""
    CharField.register_lookup(UnicodeIContains)
    TextField.register_lookup(UnicodeIContains)
    connection_created.connect(_add_sqlite_lower, dispatch_uid="micboard-sqlite-lower")
