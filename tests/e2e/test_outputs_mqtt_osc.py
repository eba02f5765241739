"""MQTT and OSC outputs end to end: an admin adds one of each on the group's outputs page in
the browser (the broker without a password, OSC with its default patterns), sends each a
test event and sees it delivered in the log; the real `run_outputs` worker publishes to a
throwaway mosquitto, watched by a subscriber, and sends to a UDP listener."""

from __future__ import annotations

import socket
import subprocess
import sys

import paho.mqtt.client as mqtt
import pytest
import redis
from django.conf import settings
from playwright.sync_api import Page, expect
from pythonosc.osc_message import OscMessage

from realtime.outputs.worker import CONSUMER_GROUP
from tests.e2e.live import (
    LIVE_TIMEOUT_MS,
    ROOT,
    LiveWallTestCase,
    make_group,
    off_the_loop,
    stop_program,
)
from tests.factories import make_user
from tests.integrations.conftest import MosquittoServer
from tests.waiting import wait_until


class Subscriber:
    """A paho client (its own network thread) subscribed to everything on the broker."""

    def __init__(self, port: int) -> None:
        self.topics: list[str] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, message: self.topics.append(message.topic)
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("#", qos=1)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.mark.e2e
class MqttOscOutputTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.broker = MosquittoServer()
        self.broker.start()
        self.subscriber = Subscriber(self.broker.port)
        self.osc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.osc.bind(("127.0.0.1", 0))
        self.osc.settimeout(0.05)
        off_the_loop(self.build_stage)
        command = [sys.executable, str(ROOT / "manage.py"), "run_outputs"]
        self.worker = subprocess.Popen(command, env=self.stack_env(), cwd=ROOT)
        wait_until(self.worker_reads, 30, "the outputs worker reading its stream")

    def worker_reads(self) -> bool:
        stream = f"{settings.MICBOARD_REDIS_PREFIX}:outputs"
        client = redis.Redis.from_url(self.redis_url)
        try:
            return any(g["name"] == CONSUMER_GROUP.encode() for g in client.xinfo_groups(stream))
        except redis.ResponseError:
            return False  # no stream yet
        finally:
            client.close()

    def build_stage(self) -> None:
        self.admin = make_user("admin", role="admin")
        self.group = make_group("Main stage", self.admin)

    def tearDown(self) -> None:
        stop_program(self.worker)  # before the test's database goes
        self.subscriber.stop()
        self.broker.cleanup()
        self.osc.close()
        super().tearDown()

    def add_output(self, page: Page, label: str, name: str, port: int) -> None:
        page.goto(self.url(f"/groups/{self.group.pk}/outputs/"))
        page.get_by_role("link", name=f"Add {label}").click()
        page.get_by_role("textbox", name="Name", exact=True).fill(name)
        page.get_by_role("textbox", name="Host", exact=True).fill("127.0.0.1")
        page.get_by_role("spinbutton", name="Port", exact=True).fill(str(port))
        page.get_by_role("button", name="Add output").click()
        expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()
        page.get_by_role("button", name=f"Send test event to {name}").click()
        expect(page.get_by_role("status")).to_contain_text(f"Test event sent to {name}")

    def osc_message(self) -> OscMessage | None:
        try:
            return OscMessage(self.osc.recv(65536))
        except TimeoutError:
            return None

    def test_an_admin_adds_mqtt_and_osc_outputs_and_their_test_events_arrive(self) -> None:
        page = self.sign_in(self.admin)
        self.add_output(page, "MQTT (Home Assistant, Node-RED)", "House broker", self.broker.port)
        topic = "micboard/default/Main-stage/events/test"
        wait_until(lambda: topic in self.subscriber.topics, 10, f"a message on {topic}")
        assert "micboard/default/Main-stage/status" in self.subscriber.topics

        self.add_output(page, "OSC (consoles, show control)", "FOH console", self.osc_port)
        message = wait_until(self.osc_message, 10, "the OSC test event")
        assert (message.address, message.params) == ("/micboard/Main-stage/test", [1])

        log = page.locator("#output-log")
        # The log refreshes itself every 3 s; both deliveries show there.
        delivered = log.locator(".delivery-delivered")
        expect(delivered).to_have_count(2, timeout=LIVE_TIMEOUT_MS)
        expect(log).to_contain_text("House broker")
        expect(log).to_contain_text("FOH console")

    @property
    def osc_port(self) -> int:
        return int(self.osc.getsockname()[1])
