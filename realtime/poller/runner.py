"""The poller: one asyncio process that reads its devices and keeps the live state.

Readings flow `DeviceReader -> on_reading -> UnitTracker -> Publisher` (Redis + frames),
with side streams to the TelemetryBatcher (database) and the AlertEngine. Everything
else is a periodic step: leases, heartbeat, snapshots, history, persistence, alerts,
and the unit-to-group map, refreshed when a change is announced on `{p}:events`.
A step that fails is logged and tried again next time; nothing here ends the process
except cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from redis.exceptions import RedisError

from realtime import keys
from realtime.discovery.service import Discovery
from realtime.poller import events, heartbeat
from realtime.poller.alerts import AlertEngine
from realtime.poller.chargers import ChargerWatch
from realtime.poller.clients import ClientFactory, default_client_factory
from realtime.poller.config import PollerConfig
from realtime.poller.database import run_db
from realtime.poller.leases import LeaseKeeper
from realtime.poller.notifiers import AlertNotifier
from realtime.poller.output_feed import UnitFeed
from realtime.poller.packs import PackWatch
from realtime.poller.persistence import TelemetryBatcher
from realtime.poller.publisher import SLICE, Publisher
from realtime.poller.readers import DeviceReader
from realtime.poller.recorder import Recorder
from realtime.poller.stats import Stats
from realtime.poller.topology import Topology, load_topology
from realtime.protocols.base import Reading
from realtime.redis_client import new_async_client
from realtime.units.state import SignalLossHolds, UnitTracker

logger = logging.getLogger(__name__)

REDIS_ERRORS = (RedisError, OSError)
STARTUP_RETRY = 2.0
SHUTDOWN_FLUSH_TIMEOUT = 5.0
# Web processes resubscribe to their groups about a second after Redis is back, so the
# snapshots sent on recovery are sent once more after this delay.
SNAPSHOT_AGAIN_AFTER = 2.0
DISCOVERY_RETRY = 30.0


class Poller:
    """Reads every device it holds a lease for; see the module docstring."""

    def __init__(
        self,
        config: PollerConfig | None = None,
        *,
        client_factory: ClientFactory = default_client_factory,
        notifiers: list[AlertNotifier] | None = None,
    ) -> None:
        self.config = config or PollerConfig()
        self.poller_id = self.config.poller_id
        self.stats = Stats()
        self.topology = Topology()
        self.trackers: dict[int, UnitTracker] = {}
        self.redis = new_async_client()
        self.packs = PackWatch()
        self.chargers = ChargerWatch(self.redis, self.packs.bay)
        self.publisher = Publisher(
            self.redis,
            get_channel_layer(),
            self.stats,
            self.config.history_maxlen,
            eager_below=self.config.eager_below,
        )
        self._paced_at = time.monotonic()
        self.leases = LeaseKeeper(self.redis, self.poller_id, self.config.lease_ttl_ms)
        self.telemetry = TelemetryBatcher()
        self.alerts = AlertEngine(notifiers)
        self.outputs = UnitFeed(self.redis, float(settings.MICBOARD_TIMELINE_RF_THRESHOLD))
        self.recorder = (
            Recorder(
                rf_threshold=float(settings.MICBOARD_TIMELINE_RF_THRESHOLD),
                save_every=float(settings.MICBOARD_TIMELINE_SAVE_SECONDS),
            )
            if self.config.timeline
            else None
        )
        self._signal_loss = SignalLossHolds(
            lost=float(settings.MICBOARD_SIGNAL_LOSS_AFTER),
            back=float(settings.MICBOARD_SIGNAL_BACK_AFTER),
        )
        self._factory = client_factory
        self._readers: dict[int, DeviceReader] = {}
        self._settling: set[int] = set()
        self._refresh = asyncio.Event()
        self._pollers_alive = 1
        self._redis_ok = True
        self._redis_run_id: str | None = None
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Run until cancelled; on the way out hand back devices and save telemetry."""
        cfg = self.config
        try:
            if self.recorder is not None:
                self.recorder.start()
            await self._load_topology_until_ready()
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._every(cfg.lease_interval, self._lease_step))
                tasks.create_task(self._every(cfg.lease_interval, self._heartbeat_step))
                tasks.create_task(self._every(cfg.frame_interval, self._frame_step, lag=True))
                tasks.create_task(self._flush_on_change())
                tasks.create_task(self._every(cfg.settle_interval, self._settle_step))
                tasks.create_task(self._every(cfg.second_interval, self._second_step))
                tasks.create_task(self._every(cfg.snapshot_interval, self._snapshot_step))
                tasks.create_task(self._every(cfg.persist_interval, self._persist_step))
                tasks.create_task(self._every(cfg.alert_interval, self.alerts.flush))
                tasks.create_task(self._every(cfg.outputs_interval, self.outputs.flush))
                tasks.create_task(self._every(cfg.second_interval, self.packs.flush))
                tasks.create_task(self.alerts.watch_for_stalls())
                tasks.create_task(events.listen(self.redis, self._on_change, self._refresh.set))
                tasks.create_task(self._topology_loop())
                if cfg.discovery:
                    tasks.create_task(self._discover())
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.chargers.close()
        owned = sorted(self._readers)
        # All at once: each reader says goodbye to its device (metering off) in parallel.
        await asyncio.gather(*(self._stop_reader(chassis_id) for chassis_id in owned))
        # Bounded: with Redis gone the client would retry, and a stop must stay prompt.
        with contextlib.suppress(*REDIS_ERRORS, TimeoutError):
            async with asyncio.timeout(SHUTDOWN_FLUSH_TIMEOUT):
                await self.leases.release(owned)
                await heartbeat.retire(self.redis, self.poller_id)
                await self.outputs.flush()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(SHUTDOWN_FLUSH_TIMEOUT):
                await self.telemetry.flush()
        if self.recorder is not None:
            self.recorder.hand_over(time.time())
            await asyncio.to_thread(self.recorder.stop, SHUTDOWN_FLUSH_TIMEOUT)
        await self.redis.aclose()

    async def _every(
        self, interval: float, step: Callable[[], Awaitable[None]], *, lag: bool = False
    ) -> None:
        """Run `step` every `interval` seconds, keeping the cadence, surviving failures.

        With `lag`, how late each wake-up is feeds the heartbeat's loop-lag figure.
        """
        next_at = time.monotonic()
        while True:
            try:
                await step()
            except REDIS_ERRORS:
                self._redis_failed(step)
            except Exception:
                logger.exception("poller step %s failed", getattr(step, "__name__", step))
            next_at += interval
            delay = next_at - time.monotonic()
            if delay < 0:
                next_at, delay = time.monotonic(), 0.0  # late: carry on, do not catch up
            await asyncio.sleep(delay)
            if lag:
                self.stats.loop_lag = max(self.stats.loop_lag, time.monotonic() - next_at)

    # ------------------------------------------------------------------ readings

    def on_reading(self, chassis_id: int, reading: Reading) -> None:
        """Take one reading from a device (called by its DeviceReader)."""
        now = time.time()
        self.stats.reading(now - reading.timestamp)
        self.telemetry.chassis_seen(chassis_id, reading.rx_reachable, now)
        unit_id = self.topology.unit_at(chassis_id, reading.channel)
        if unit_id is None:
            return
        self.packs.reading(unit_id, reading)
        tracker = self.trackers.get(unit_id)
        if tracker is None:
            tracker = UnitTracker(
                unit_id,
                signal_loss=self._signal_loss,
                pack_health_min=int(settings.MICBOARD_PACK_HEALTH_MIN),
            )
            self.trackers[unit_id] = tracker
        self._after_update(tracker, tracker.observe(reading, now))

    def _after_update(self, tracker: UnitTracker, changed: bool) -> None:
        if changed and tracker.state is not None:
            self.publisher.mark(tracker.state)
            self.telemetry.record(tracker.state)
            self.outputs.observe(tracker.state, self.topology.groups_of(tracker.unit_id))
            if self.recorder is not None:
                self.recorder.observe(tracker.state)
        if tracker.pending:
            self._settling.add(tracker.unit_id)
        conditions = tracker.take_conditions()
        if conditions is not None:
            self.alerts.submit(tracker.unit_id, conditions)

    # ------------------------------------------------------------------ periodic steps

    async def _frame_step(self) -> None:
        await self._flush()
        now = time.monotonic()
        self.publisher.pace(now - self._paced_at)  # only after a flush that went through
        self._paced_at = now

    async def _flush_on_change(self) -> None:
        """While the poller is idle, send each change without waiting for the tick."""
        while True:
            await self.publisher.next_change()
            await asyncio.sleep(0)  # the readings parsed in this loop pass leave together
            if not self.publisher.eager:
                continue
            try:
                await self._flush()
            except REDIS_ERRORS:
                # The tick retries, reports and turns this back on once Redis answers.
                self.publisher.eager = False
            except Exception:
                logger.exception("flushing a change failed")

    async def _flush(self) -> None:
        started = time.monotonic()
        await self.publisher.flush_deltas(self.topology)
        self.stats.tick(time.monotonic() - started)
        self.stats.published_at = time.time()

    async def _settle_step(self) -> None:
        now = time.time()
        for unit_id in list(self._settling):
            tracker = self.trackers.get(unit_id)
            if tracker is not None:
                self._after_update(tracker, tracker.tick(now))
            if tracker is None or not tracker.pending:
                self._settling.discard(unit_id)

    async def _second_step(self) -> None:
        """Let time act on every unit (peak hold, PREV window), then add history."""
        trackers = list(self.trackers.values())
        for start in range(0, len(trackers), SLICE):
            now = time.time()
            for tracker in trackers[start : start + SLICE]:
                self._after_update(tracker, tracker.tick(now))
            await asyncio.sleep(0)  # let a frame tick in between slices
        if self.recorder is not None:
            self.recorder.hand_over(time.time())
        await self.publisher.write_history()
        await self._publish_health()

    async def _snapshot_step(self) -> None:
        await self.publisher.send_snapshots(self.topology, self._watched_groups())

    async def _persist_step(self) -> None:
        await self.telemetry.flush()

    async def _heartbeat_step(self) -> None:
        self._notice_restart(str((await self.redis.info("server"))["run_id"]))
        self._pollers_alive = await heartbeat.beat(
            self.redis,
            self.poller_id,
            self._heartbeat_fields(),
            self.config.heartbeat_ttl_ms,
            published_at=self.stats.published_at,
        )
        self._redis_succeeded()

    async def _lease_step(self) -> None:
        try:
            outcome = await self.leases.run_round(self.topology.chassis, self._pollers_alive)
        except REDIS_ERRORS:
            for chassis_id in self.leases.expire_if_stale():
                await self._stop_reader(chassis_id)
            raise
        for chassis_id in outcome.lost | outcome.surplus:
            await self._stop_reader(chassis_id)
        await self.leases.release(outcome.surplus)
        for chassis_id in sorted(outcome.gained):
            self._start_reader(chassis_id)

    # ------------------------------------------------------------------ devices

    def _start_reader(self, chassis_id: int) -> None:
        reader = DeviceReader(
            self.topology.chassis[chassis_id], self._factory, self.on_reading, self.poller_id
        )
        self._readers[chassis_id] = reader
        reader.start()

    async def _stop_reader(self, chassis_id: int) -> None:
        reader = self._readers.pop(chassis_id, None)
        if reader is not None:
            await reader.stop()
        for unit_id in self.topology.units_of(chassis_id):
            self.trackers.pop(unit_id, None)
        if chassis_id not in self.topology.chassis:  # removed: its health goes with it
            with contextlib.suppress(*REDIS_ERRORS):
                await self.redis.hdel(keys.device_health(), str(chassis_id))

    async def _publish_health(self) -> None:
        """Write every read receiver's health for the Devices page (once a second)."""
        if self._readers:
            await self.redis.hset(
                keys.device_health(),
                mapping={str(cid): r.health.to_json() for cid, r in self._readers.items()},
            )

    async def _discover(self) -> None:
        """Run discovery; a failure there (a port it cannot bind) never stops the readers."""
        discovery = Discovery(
            self.redis,
            lambda seen: self.topology.reads(seen.protocol.value, seen.host, seen.port),
            slp_port=self.config.slp_port,
            interfaces=self.config.discovery_interfaces,
        )
        while True:
            try:
                await discovery.run()
            except Exception:
                logger.exception("discovery failed; trying again in %.0f s", DISCOVERY_RETRY)
            await asyncio.sleep(DISCOVERY_RETRY)

    # ------------------------------------------------------------------ topology

    def _on_change(self, change: dict[str, Any]) -> None:
        if events.refreshes_topology(change.get("kind")):
            self._refresh.set()

    async def _topology_loop(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that lands as the wait finishes, and the poller would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.topology_interval):
                    await self._refresh.wait()
            await asyncio.sleep(self.config.topology_debounce)  # one reload per burst
            self._refresh.clear()
            try:
                await self._reload_topology()
            except Exception:
                logger.warning("topology refresh failed; retrying", exc_info=True)
                await asyncio.sleep(STARTUP_RETRY)
                self._refresh.set()

    async def _load_topology_until_ready(self) -> None:
        while True:
            try:
                await self._reload_topology()
                return
            except REDIS_ERRORS:
                self._redis_failed(self._load_topology_until_ready)
                return  # the map is loaded; the sets are rewritten when Redis is back
            except Exception:
                logger.warning("database not ready; retrying", exc_info=True)
                await asyncio.sleep(STARTUP_RETRY)

    async def _reload_topology(self) -> None:
        new = await run_db(load_topology)
        old, self.topology = self.topology, new
        await self._restart_moved_devices(old, new)
        await self.chargers.follow(new.chargers)
        mapped = set(new.unit_by_channel.values())
        for unit_id in [u for u in self.trackers if u not in mapped]:
            del self.trackers[unit_id]
            if self.recorder is not None:
                self.recorder.forget(unit_id)
            self.alerts.submit(unit_id, frozenset())  # its alerts end with it
        for unit_id, tracker in self.trackers.items():
            if old.groups_of(unit_id) == new.groups_of(unit_id):
                continue
            # A unit that joined a group must reach that group's walls in the next delta,
            # and the alerts of a group it left are resolved.
            if tracker.state is not None:
                self.publisher.mark(tracker.state)
            self.alerts.submit(unit_id, tracker.conditions)
        await self.publisher.write_group_sets(new, old.units_by_group)

    async def _restart_moved_devices(self, old: Topology, new: Topology) -> None:
        for chassis_id in list(self._readers):
            info = new.chassis.get(chassis_id)
            if info is not None and info != old.chassis.get(chassis_id):
                await self._stop_reader(chassis_id)
                self._start_reader(chassis_id)

    def _watched_groups(self) -> set[int]:
        return {group for unit in self.trackers for group in self.topology.groups_of(unit)}

    # ------------------------------------------------------------------ Redis health

    def _redis_failed(self, step: object) -> None:
        if self._redis_ok:
            logger.warning("Redis unreachable (in %s)", getattr(step, "__name__", step))
        self._redis_ok = False

    def _redis_succeeded(self) -> None:
        if self._redis_ok:
            return
        self._redis_ok = True
        logger.warning("Redis is back: restoring live state and sending snapshots")
        self._start_restore()

    def _notice_restart(self, run_id: str) -> None:
        """Restore when Redis restarted, even if no command failed (retries hid it)."""
        restarted = self._redis_run_id is not None and run_id != self._redis_run_id
        self._redis_run_id = run_id
        if restarted:
            logger.warning("Redis restarted: restoring live state and sending snapshots")
            self._start_restore()

    def _start_restore(self) -> None:
        task = asyncio.create_task(self._restore())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _restore(self) -> None:
        """Write back what a Redis restart lost, then give every wall a fresh snapshot."""
        self._refresh.set()  # changes announced while Redis was away were lost
        try:
            states = [t.state for t in self.trackers.values() if t.state is not None]
            await self.publisher.restore(states, self.topology)
            await self.publisher.send_snapshots(self.topology, self._watched_groups())
            await asyncio.sleep(SNAPSHOT_AGAIN_AFTER)
            await self.publisher.send_snapshots(self.topology, self._watched_groups())
        except REDIS_ERRORS:
            self._redis_failed(self._restore)

    def _heartbeat_fields(self) -> dict[str, str]:
        rates = self.stats.rates()
        return {
            "started": datetime.fromtimestamp(self.stats.started, tz=UTC).isoformat(),
            "host": socket.gethostname(),
            "pid": str(os.getpid()),
            "devices": str(len(self._readers)),
            "units": str(len(self.trackers)),
            "db_pending": str(self.telemetry.pending),
            "db_failures": str(self.telemetry.failed_batches),
            "timeline_dropped": str(self.recorder.dropped if self.recorder else 0),
            # Running totals, so a reader can take rates over any window it likes.
            "readings": str(self.stats.readings),
            "frames": str(self.stats.frames),
            "reading_lag_total_s": f"{self.stats.reading_lag_total:.3f}",
            "ticks": str(self.stats.ticks),
            "tick_total_s": f"{self.stats.tick_total:.6f}",
            **{name: f"{value:.1f}" for name, value in rates.items()},
        }
