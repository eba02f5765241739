"""Measure outputs: an alert raised in the poller → received by its output, p50/p99.

The bench process runs a Shure TCP simulator (4 channels), the real poller and webhook
receivers (real HTTP servers checking signatures) on one event loop; the outputs worker is
`manage.py run_outputs` in its own process, as in production; a throwaway redis-server and
SQLite database. Each round drops a pack to one
bar (the poller raises `battery_critical`) and fills it again (resolved); the latency of
each delivery is its arrival minus the alert's `created_at` (when the poller's database
thread saved it). Three webhook rows: 1 webhook, 10 webhooks, and 10 webhooks beside one
that never answers (it must slow nobody else); then, the webhooks deleted, one MQTT output
(a throwaway mosquitto, a subscriber on the event topic) beside one OSC output (a UDP
listener), each row its own deliveries.

    .venv/bin/python bench/bench_outputs.py [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

SECRET = "bench-secret"
CHANNELS = 4
ROUND_TIMEOUT = 20.0
MEASURED_EVENTS = ["alert.raised", "alert.resolved"]
OSC_RAISED = "/bench/alert"  # the OSC output's address for alert.raised, with its raised_at


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup(workdir: Path, redis_port: int) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    os.environ["MICBOARD_REDIS_PREFIX"] = f"bench{uuid.uuid4().hex[:6]}"
    os.environ["MICBOARD_ALERT_GRACE"] = "0"
    os.environ["MICBOARD_DISCOVERY"] = "False"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "micboard.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_stage(port: int) -> Any:
    from micboard.models import MonitoringGroup, Organization
    from micboard.services import PerformerAssignmentService, PerformerService
    from tests.factories import make_receiver, make_user

    organization = Organization.default()
    _, units = make_receiver(organization, port, channels=CHANNELS)
    group = MonitoringGroup.objects.create(organization=organization, name="Main stage")
    for number, unit in enumerate(units, 1):
        performer = PerformerService.create_performer(f"Performer {number}")
        PerformerAssignmentService.create_assignment(performer, unit, group)
    return group, make_user("bench-admin", organization, role="admin")


def add_output(group: Any, admin: Any, kind: str, config: dict[str, Any]) -> Any:
    from micboard.services import OutputService

    output = OutputService.create_output(
        group, kind, name=kind, config=config, events=MEASURED_EVENTS, by_user=admin
    )
    OutputService.send_test_event(output, by_user=admin)  # its delivery: the worker knows it
    return output


def delete_outputs(group: Any, admin: Any) -> None:
    from micboard.integrations.models import Output
    from micboard.services import OutputService

    for output in Output.objects.filter(monitoring_group=group):
        OutputService.delete_output(output, by_user=admin)


def add_webhook(group: Any, admin: Any, url: str, name: str, events: list[str]) -> Any:
    from micboard.services import OutputService

    return OutputService.create_output(
        group,
        "webhook",
        name=name,
        config={"url": url},
        secrets={"secret": SECRET},
        events=events,
        by_user=admin,
    )


async def one_row(simulator: Any, receivers: list[Any], rounds: int) -> dict[str, Any]:
    """Raise and resolve `rounds` alerts; return the latencies of alert.raised deliveries."""
    from realtime.simulation.webhook_receiver import Received
    from tests.waiting import wait_until_async

    latencies: list[float] = []
    unverified = 0
    for number in range(rounds):
        channel = number % CHANNELS + 1
        seen = [len(_raised(r.received)) for r in receivers]

        def everyone_told(seen: list[int] = seen) -> bool:
            return all(len(_raised(r.received)) > n for r, n in zip(receivers, seen, strict=True))

        simulator.set_battery(channel, bars=1)
        await wait_until_async(
            everyone_told, ROUND_TIMEOUT, "every webhook told of the alert", interval=0.005
        )
        for receiver, before in zip(receivers, seen, strict=True):
            arrived: Received = _raised(receiver.received)[before]
            raised_at = datetime.fromisoformat(arrived.event["payload"]["raised_at"])
            latencies.append((arrived.at - raised_at.timestamp()) * 1000)
            unverified += not arrived.verified
        simulator.set_battery(channel, bars=5)
    await wait_until_async(
        lambda: all(len(_of(r, "alert.resolved")) >= len(_raised(r.received)) for r in receivers),
        ROUND_TIMEOUT,
        "every alert resolved",
    )
    return {"latencies": latencies, "unverified": unverified}


class OscArrivals(asyncio.DatagramProtocol):
    """A UDP listener noting when each alert.raised message (its `raised_at`) arrived."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        self.tests = 0  # test events: the worker knows the output

    def datagram_received(self, data: bytes, addr: Any) -> None:
        from pythonosc.osc_message import OscMessage

        message = OscMessage(data)
        if message.address == OSC_RAISED:
            self.arrivals.append((time.time(), str(message.params[0])))
        elif message.address.endswith("/test"):
            self.tests += 1


async def mqtt_arrivals(
    port: int, topic: str, arrivals: dict[str, list[tuple[float, str]]]
) -> None:
    """Subscribe to the event topics under `topic`; note when each event arrived, by
    kind, with its alert's `raised_at`."""
    import aiomqtt
    import orjson

    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(f"{topic}/#", qos=1)
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            event = orjson.loads(message.payload)
            kind = arrivals.setdefault(event["kind"], [])
            kind.append((time.time(), event["payload"].get("raised_at", "")))


async def mqtt_osc_rows(simulator: Any, group: Any, admin: Any, rounds: int) -> list[dict]:
    """The webhooks gone, raise `rounds` alerts to one MQTT and one OSC output."""
    from asgiref.sync import sync_to_async

    from micboard.integrations.drivers.osc import field_name
    from tests.integrations.conftest import MosquittoServer
    from tests.waiting import wait_until_async

    broker = MosquittoServer()
    broker.start()
    loop = asyncio.get_running_loop()
    transport, osc = await loop.create_datagram_endpoint(OscArrivals, local_addr=("127.0.0.1", 0))
    events: dict[str, list[tuple[float, str]]] = {}
    mqtt = events.setdefault("alert.raised", [])
    resolved = events.setdefault("alert.resolved", [])
    topic = f"micboard/{group.organization.slug}/Main-stage/events"
    subscriber = asyncio.create_task(mqtt_arrivals(broker.port, topic, events))
    try:
        await sync_to_async(delete_outputs)(group, admin)
        await sync_to_async(add_output)(
            group, admin, "mqtt", {"host": "127.0.0.1", "port": broker.port}
        )
        osc_port = transport.get_extra_info("sockname")[1]
        pattern = {field_name("alert.raised"): f"{OSC_RAISED} s:{{raised_at}}"}
        await sync_to_async(add_output)(
            group, admin, "osc", {"host": "127.0.0.1", "port": osc_port, **pattern}
        )
        await wait_until_async(
            lambda: events.get("test") and osc.tests, ROUND_TIMEOUT, "both test events"
        )
        for number in range(rounds):
            channel = number % CHANNELS + 1
            counts = len(mqtt), len(osc.arrivals)

            def both_told(counts: tuple[int, int] = counts) -> bool:
                return len(mqtt) > counts[0] and len(osc.arrivals) > counts[1]

            simulator.set_battery(channel, bars=1)
            await wait_until_async(both_told, ROUND_TIMEOUT, "MQTT and OSC told", interval=0.005)
            simulator.set_battery(channel, bars=5)

            def cleared(number: int = number) -> bool:
                return len(resolved) > number

            await wait_until_async(cleared, ROUND_TIMEOUT, "the alert resolved over MQTT")
    finally:
        subscriber.cancel()
        transport.close()
        broker.cleanup()
    return [
        {"kind": kind, "outputs": 1, "hanging": False, "unverified": 0,
         "latencies": [(at - datetime.fromisoformat(raised).timestamp()) * 1000
                       for at, raised in arrivals]}
        for kind, arrivals in (("mqtt", mqtt), ("osc", osc.arrivals))
    ]  # fmt: skip


def _raised(received: list[Any]) -> list[Any]:
    return [r for r in received if r.event["kind"] == "alert.raised"]


def _told_test(receiver: Any) -> Callable[[], bool]:
    return lambda: bool(_of(receiver, "test"))


def _of(receiver: Any, kind: str) -> list[Any]:
    return [r for r in receiver.received if r.event["kind"] == kind]


def start_worker() -> subprocess.Popen[bytes]:
    """Run `manage.py run_outputs` as its own process, as in production (the poller's
    database thread and the worker's must not queue behind each other)."""
    manage = Path(__file__).resolve().parent.parent / "manage.py"
    return subprocess.Popen([sys.executable, str(manage), "run_outputs"], env=dict(os.environ))


def worker_reads() -> bool:
    from realtime import keys
    from realtime.outputs.worker import CONSUMER_GROUP
    from realtime.redis_client import sync_client

    try:
        groups = sync_client().xinfo_groups(keys.outputs())
    except Exception:
        return False  # no stream yet
    return any(group["name"] == CONSUMER_GROUP.encode() for group in groups)


async def run_async(rounds: int) -> list[dict[str, Any]]:
    from asgiref.sync import sync_to_async

    from micboard.services import OutputService
    from realtime.poller import Poller, PollerConfig
    from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator
    from realtime.simulation.webhook_receiver import WebhookReceiver
    from tests.waiting import wait_until_async

    simulator = ShureTcpSimulator("ULXD4Q", seed=3)
    await simulator.start()
    for channel in range(1, CHANNELS + 1):
        simulator.set_battery(channel, bars=5)
    group, admin = await sync_to_async(build_stage)(simulator.port)
    worker = start_worker()
    poller = Poller(PollerConfig(timeline=False, alert_interval=0.05))
    task = asyncio.create_task(poller.run())
    receivers: list[WebhookReceiver] = []
    stuck = WebhookReceiver(SECRET, hang=True)  # added for the last row
    rows = []
    try:
        await wait_until_async(worker_reads, 60, "the worker reading its stream")
        for wanted, hanging in ((1, False), (10, False), (10, True)):
            while len(receivers) < wanted:
                receiver = WebhookReceiver(SECRET)
                await receiver.start()
                receivers.append(receiver)
                output = await sync_to_async(add_webhook)(
                    group, admin, receiver.url, f"hook {len(receivers)}", MEASURED_EVENTS
                )
                # A test event delivered: the worker knows the output.
                await sync_to_async(OutputService.send_test_event)(output, by_user=admin)
                await wait_until_async(_told_test(receiver), ROUND_TIMEOUT, "the worker knowing it")
            if hanging:
                await stuck.start()
                await sync_to_async(add_webhook)(group, admin, stuck.url, "stuck", MEASURED_EVENTS)
            result = await one_row(simulator, receivers, rounds)
            rows.append({"kind": "webhook", "outputs": wanted, "hanging": hanging, **result})
        rows += await mqtt_osc_rows(simulator, group, admin, rounds)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, 15)
        worker.terminate()
        worker.wait(30)
        for receiver in [*receivers, stuck]:
            await receiver.stop()
        await simulator.stop()
    return rows


def run(rounds: int) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="micboard-bench-outputs-"))
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for_redis(port)
        setup(workdir, port)
        return asyncio.run(run_async(rounds))
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_for_redis(port: int) -> None:
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def print_table(rows: list[dict[str, Any]], rounds: int) -> None:
    print(f"\noutputs: alert raised in the poller → received ({rounds} alerts a row)")
    print(
        f"{'kind':>8} {'outputs':>8} {'+ hanging':>10} {'deliveries':>11} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'unsigned':>9}"
    )
    for row in rows:
        lat = row["latencies"]
        print(
            f"{row['kind']:>8} {row['outputs']:>8} {'yes' if row['hanging'] else 'no':>10} "
            f"{len(lat):>11} "
            f"{percentile(lat, 0.5):>8.1f} {percentile(lat, 0.99):>8.1f} {max(lat):>8.1f} "
            f"{row['unverified']:>9}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    print_table(run(args.rounds), args.rounds)


if __name__ == "__main__":
    main()
