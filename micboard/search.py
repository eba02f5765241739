"""Search that folds case in every script: `name__folded="zoë"` finds "ZOË".

SQLite's LIKE folds A-Z only, so `icontains` misses "ZOË" for "zoë"; there the lookup
compares both sides through Python's casefold, registered on each new connection.
PostgreSQL's UPPER already knows Unicode, so there it is plain `icontains`.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import CharField, TextField
from django.db.models.lookups import IContains
from django.db.models.sql.compiler import SQLCompiler

FOLD_FUNCTION = "micboard_fold"


class FoldedContains(IContains):
    lookup_name = "folded"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> Any:
        # Not SQLite: the backend's own icontains (its operators know no "folded").
        return IContains(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> Any:
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)  # '%…%', wildcards escaped
        sql = f"{FOLD_FUNCTION}({lhs_sql}) LIKE {FOLD_FUNCTION}({rhs_sql}) ESCAPE '\\'"
        return sql, (*lhs_params, *rhs_params)


def _fold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def add_fold_function(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(FOLD_FUNCTION, 1, _fold, deterministic=True)


CharField.register_lookup(FoldedContains)  # EmailField too: it is a CharField
TextField.register_lookup(FoldedContains)
connection_created.connect(add_fold_function, dispatch_uid="micboard-fold")
