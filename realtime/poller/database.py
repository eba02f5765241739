"""Database work of the poller: always in a worker thread, always as the system tenant.

The event loop never waits on the database; callers await these in their own tasks and
keep their data for a retry when the database is unreachable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from channels.db import database_sync_to_async

from micboard.tenancy import system_context

P = ParamSpec("P")
R = TypeVar("R")


async def run_db(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run `function` in the database thread with every tenant visible."""

    def as_system() -> R:
        with system_context():
            return function(*args, **kwargs)

    # database_sync_to_async closes broken connections around the call, so the next
    # attempt after an outage reconnects instead of failing forever.
    return await database_sync_to_async(as_system)()
