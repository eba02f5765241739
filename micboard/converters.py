"""The URL converter of database ids, shared by the pages and the socket routes."""

from __future__ import annotations

import re


class IdConverter:
    """Match an id of 1 to 18 digits: it always fits a 64-bit column (2**63 has 19 digits).

    A longer number is no id of ours; refusing it in the resolver (404) keeps it away from
    queries that some databases answer with an error instead of no rows.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def is_id(text: str) -> bool:
    """Tell whether `text` is an id as the URLs take it (ASCII digits that fit 64 bits)."""
    return re.fullmatch(IdConverter.regex, text) is not None
