"""Who has a shared unit now and who is next, from its turns in order (pure, no database)."""

from __future__ import annotations

from collections.abc import Sequence


def now_index(current_flags: Sequence[bool]) -> int:
    """Return the index of the turn that has the unit now.

    The flagged turn, or the first when none is flagged (the flagged turn's assignment was
    deleted or deactivated elsewhere): a shared unit always has someone "now".
    """
    return next((i for i, flag in enumerate(current_flags) if flag), 0)


def next_index(current: int, count: int) -> int | None:
    """Return the index of the next turn, going round to the first after the last (a host
    takes the mic back after the last speaker); None when there is nobody else."""
    return (current + 1) % count if count > 1 else None
