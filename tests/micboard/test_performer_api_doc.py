"""docs/performer-api.md: every `python` block runs as written, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from micboard.models import Location, MonitoringGroup, Organization, WirelessUnit
from tests.factories import make_receiver, make_user

PAGE = Path(__file__).resolve().parents[2] / "docs" / "performer-api.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", PAGE.read_text(), flags=re.MULTILINE | re.DOTALL)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.fixture
def namespace(db: None) -> dict[str, Any]:
    """What the page says its blocks start from."""
    organization = Organization.default()
    stage = Location.objects.create(organization=organization, name="Main stage")
    _, units = make_receiver(organization, 2300)
    WirelessUnit.objects.filter(pk__in=[unit.pk for unit in units]).update(location=stage)
    tech = make_user("doc_tech", organization)
    group = MonitoringGroup.objects.create(
        organization=organization, name="Main stage", location=stage
    )
    group.users.add(tech)
    other_group = MonitoringGroup.objects.create(organization=organization, name="Side stage")
    admin = make_user("doc_admin", organization, role="admin")
    return {
        "group": group,
        "other_group": other_group,
        "tech": tech,
        "admin": admin,
        "units": units,
    }


def test_every_block_runs_in_order(namespace: dict[str, Any]) -> None:
    for number, block in enumerate(BLOCKS, start=1):
        code = compile(block, f"{PAGE.name} block {number}", "exec")
        exec(code, namespace)
