"""Outputs end to end: an admin adds a webhook on the group's outputs page in the browser,
sends it a test event, and sees it delivered in the log; the real `run_outputs` worker
delivers it to a real HTTP receiver that checks the signature."""

from __future__ import annotations

import subprocess
import sys

import pytest
import redis
from django.conf import settings
from playwright.sync_api import expect

from realtime.outputs.worker import CONSUMER_GROUP
from realtime.simulation.webhook_receiver import WebhookReceiver
from tests.e2e.live import (
    LIVE_TIMEOUT_MS,
    ROOT,
    LiveWallTestCase,
    SimulatorThread,
    make_group,
    off_the_loop,
    stop_program,
)
from tests.factories import make_user
from tests.waiting import wait_until

SECRET = "e2e-webhook-secret"


@pytest.mark.e2e
class OutputTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.receiver = SimulatorThread(simulator=WebhookReceiver(SECRET))
        self.simulators.append(self.receiver)
        off_the_loop(self.build_stage)
        command = [sys.executable, str(ROOT / "manage.py"), "run_outputs"]
        self.worker = subprocess.Popen(command, env=self.stack_env(), cwd=ROOT)
        wait_until(self.worker_reads, 30, "the outputs worker reading its stream")

    def build_stage(self) -> None:
        self.admin = make_user("admin", role="admin")
        self.group = make_group("Main stage", self.admin)

    def tearDown(self) -> None:
        stop_program(self.worker)  # before the test's database goes
        super().tearDown()

    def worker_reads(self) -> bool:
        stream = f"{settings.MICBOARD_REDIS_PREFIX}:outputs"
        client = redis.Redis.from_url(self.redis_url)
        try:
            return any(g["name"] == CONSUMER_GROUP.encode() for g in client.xinfo_groups(stream))
        except redis.ResponseError:
            return False  # no stream yet
        finally:
            client.close()

    def test_an_admin_adds_a_webhook_and_sees_its_test_event_delivered(self) -> None:
        page = self.sign_in(self.admin)
        page.goto(self.url(f"/groups/{self.group.pk}/"))
        page.get_by_role("link", name="Outputs").click()
        page.get_by_role("link", name="Add Webhook (HTTP POST)").click()
        page.get_by_label("Name").fill("Companion FOH")
        page.get_by_label("URL").fill(self.receiver.simulator.url)
        page.get_by_label("Secret").fill(SECRET)
        page.get_by_role("button", name="Add output").click()
        expect(page.get_by_role("cell", name="Companion FOH", exact=True)).to_be_visible()

        page.get_by_role("button", name="Send test event to Companion FOH").click()
        expect(page.get_by_role("status")).to_contain_text("Test event sent to Companion FOH")
        log = page.locator("#output-log")
        # The log refreshes itself every 3 s; the worker delivers within a second.
        status = log.locator(".delivery-status").first
        expect(status).to_have_text("delivered", timeout=LIVE_TIMEOUT_MS)
        expect(log).to_contain_text("test")
        received = self.receiver.simulator.received
        assert [(r.event["kind"], r.verified) for r in received] == [("test", True)]
        assert SECRET not in page.content()
