"""Battery projection on the wall: a group admin sets when the show ends on the group's
page, and a tile whose battery will not last until then says so, in words, both as the
server rendered it and as static/js/live.js keeps it live.

The WebSocket is answered by the test (as in test_live_rules.py), so each state the
tiles are given is exactly as written here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from micboard.models import MonitoringGroup, WirelessUnit
from tests.e2e.live import LiveWallTestCase, assign, make_group, make_receiver, off_the_loop
from tests.e2e.test_live_script import ScriptedServer, unit_state
from tests.factories import make_user

# Tomorrow at 22:15 (the server's time zone); both packs were last read at 21:40.
SHOW_END = (timezone.localtime() + timedelta(days=1)).replace(
    hour=22, minute=15, second=0, microsecond=0
)
READ_AT = SHOW_END - timedelta(minutes=35)


@pytest.mark.e2e
class BatteryProjectionTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.units, self.group = off_the_loop(self.build_stage)
        self.server = ScriptedServer(self.page)

    def build_stage(self) -> tuple[list[WirelessUnit], MonitoringGroup]:
        units = make_receiver(2202, slots=["HH01", "HH02"])
        self.admin = make_user("stage_admin", role="admin")
        group = make_group("Main stage", make_user("tech"))
        for number, (unit, minutes) in enumerate(zip(units, (20, 60), strict=True)):
            WirelessUnit.objects.filter(pk=unit.pk).update(
                battery_bars=3, battery_minutes=minutes, last_seen=READ_AT
            )
            assign(f"Performer {number}", unit, group)
        return units, group

    def projection(self, unit: WirelessUnit) -> Any:
        return self.page.locator(f'#tile-{unit.pk} [data-field="projection"]')

    def send(self, seq: int, status: str, **minutes: int | None) -> None:
        """Send a delta: each unit's status and minutes left (by slot), read at READ_AT."""
        states = {
            str(unit.pk): unit_state(
                unit.pk, status=status, minutes=minutes[unit.slot], ts=READ_AT.timestamp()
            )
            for unit in self.units
        }
        self.server.send({"type": "delta", "group": self.group.pk, "seq": seq, "units": states})

    def test_a_tile_says_when_its_battery_will_not_last_until_the_show_ends(self) -> None:
        self.sign_in(self.admin)
        self.page.goto(self.url(f"/groups/{self.group.pk}/"))
        self.page.get_by_label("The show ends at").fill(SHOW_END.strftime("%Y-%m-%dT%H:%M"))
        self.page.get_by_role("button", name="Save show end").click()
        expect(self.page.locator("#show-end [role=status]")).to_have_text("The show ends at 22:15.")
        saved = off_the_loop(lambda: MonitoringGroup.objects.get(pk=self.group.pk).show_ends_at)
        assert saved == SHOW_END

        count = len(self.server.sockets)
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        self.server.wait_for(lambda: len(self.server.sockets) == count + 1, "the wall connecting")
        short, long = self.units
        # Rendered by the server: 21:40 + 20 min is before 22:15; 21:40 + 60 min is not.
        expect(self.projection(short)).to_have_text("won't last: 22:00 < 22:15")
        expect(self.projection(long)).to_have_text("")

        # Live: blank first (nothing known), so what follows is the script's own writing.
        self.server.send(
            {
                "type": "snapshot",
                "group": self.group.pk,
                "seq": 1,
                "units": {
                    str(u.pk): unit_state(u.pk, status="CRITICAL", minutes=None) for u in self.units
                },
            }
        )
        expect(self.page.locator(f"#tile-{short.pk}")).to_have_attribute("data-status", "CRITICAL")
        expect(self.projection(short)).to_have_text("")
        self.send(2, "GOOD", HH01=20, HH02=60)
        expect(self.projection(short)).to_have_text("won't last: 22:00 < 22:15")
        expect(self.projection(long)).to_have_text("")
        # The second pack's estimate drops: it now runs out at 22:05, and its tile says so.
        self.send(3, "REPLACE", HH01=50, HH02=25)
        expect(self.projection(long)).to_have_text("won't last: 22:05 < 22:15")
        expect(self.projection(short)).to_have_text("")
