"""Zooming the timeline into a finer tier, in a real browser: the page asks for the next
finer zoom's points in the background once a view is drawn, so when the tech zooms in the
charts show that range's own, finer points without another round trip to the server."""

from __future__ import annotations

import random
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Request, expect

from micboard.timeline import store
from micboard.timeline.codec import POINTS, Span
from micboard.timeline.models import Resolution
from tests.e2e.live import LiveWallTestCase, assign, make_group, make_receiver, off_the_loop
from tests.factories import make_user

HOURS = 3


@pytest.mark.e2e
class TimelineZoomTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        off_the_loop(self.build_show)

    def build_show(self) -> None:
        """Three hours of stored 1 s and 10 s points for one pack, ending now."""
        self.unit = make_receiver(9, slots=["HH01"])[0]
        self.tech = make_user("tech_a")
        self.group = make_group("Main stage", self.tech)
        assign("Jane Smith", self.unit, self.group)
        rng = random.Random(16)
        end = int(time.time())
        for resolution in (Resolution.SECOND, Resolution.TEN_SECONDS):
            first = store.window_start(end - HOURS * 3600, resolution)
            chunks = []
            for window in range(first, end, resolution * POINTS):
                points: list[Any] = []
                for _ in range(POINTS):
                    rf = rng.uniform(-75, -50)
                    points.append((Span(rf - 3, rf + 3, rf), Span(rf - 6, rf, rf - 3),
                                   Span(-40, -20, -30), Span(70, 70, 70)))  # fmt: skip
                chunks.append(store.Chunk(self.unit.pk, resolution, window, points))
            store.save_chunks(chunks)

    def test_a_zoom_into_a_finer_tier_draws_the_points_asked_ahead(self) -> None:
        asks: list[str] = []

        def note(request: Request) -> None:
            if "/timeline/data/" in request.url:
                asks.append(request.url)

        self.sign_in(self.tech)
        self.page.on("request", note)
        self.page.goto(self.url(f"/groups/{self.group.pk}/timeline/"))
        timeline = self.page.locator("#timeline")
        shown = timeline.locator(".timeline-range")
        expect(timeline).to_have_attribute("data-state", "ready")
        timeline.locator('[data-span="10800"]').click()
        expect(shown).to_contain_text("(10 s points)")
        expect(timeline).to_have_attribute("data-state", "ready")
        zoom_in = timeline.locator('[data-action="zoom-in"]')
        zoom_in.click()  # 3 h -> 1.5 h: still 10 s points, drawn from what the charts hold
        expect(timeline).to_have_attribute("data-ahead", "ready")
        asked_before = len(asks)
        zoom_in.click()  # 1.5 h -> 45 min: the 1 s tier, two seconds a point
        expect(shown).to_contain_text("(2 s points)")
        expect(timeline).to_have_attribute("data-state", "ready")
        # The 45 min points came from the ask made before the click: no request since,
        # except the ask ahead for the next finer zoom (22 min at 1 s points).
        views = [int(parse_qs(urlsplit(url).query)["view"][0]) for url in asks[asked_before:]]
        assert len(views) <= 1, views
        assert all(view < 1400 for view in views), views
