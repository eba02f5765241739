"""The outputs worker (`manage.py run_outputs`): `{p}:outputs` in, deliveries out.

It reads the stream with a consumer group (several workers share the events), finds the
enabled outputs of each event's group that want its kind (a cache, reloaded when an
`output.changed` is announced and every minute), and puts the event on each output's own
bounded queue. Each output has one task that delivers its queue in order, retrying a
failed attempt after 1, 2, 4 and 8 s and giving up after the fifth: a slow or failing
receiver holds up only its own queue. Every attempt is recorded (DeliveryAttempt) by a
writer task in the database thread, in batches. Cancel `run()` to stop (SIGTERM does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from micboard.integrations.drivers import driver_class
from micboard.integrations.live import KeepsLinks, ReadsUnitStates
from micboard.integrations.types import (
    DeliveryResult,
    DeliveryStatus,
    Driver,
    OutputConfig,
    OutputEvent,
    OutputEventKind,
)
from micboard.services.outputs import AttemptRecord, OutputService
from realtime import keys
from realtime.outputs import lookup
from realtime.outputs.feed import FIELD
from realtime.outputs.states import RedisUnitStates
from realtime.poller import events
from realtime.poller.database import run_db
from realtime.redis_client import new_async_client

logger = logging.getLogger(__name__)

CONSUMER_GROUP = "outputs"
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)  # then the fifth attempt is the last
QUEUE_SIZE = 100  # events waiting per output; more are given up at once (and logged)
ATTEMPT_TIMEOUT = 15.0  # a driver's own timeouts are shorter; this catches a stuck one
READ_BLOCK_MS = 1000  # below the Redis client's socket timeout
READ_COUNT = 100
RELOAD_EVERY = 60.0  # safety net: changes are announced on {p}:events
WRITE_EVERY = 0.2  # attempts are saved in batches this often
REDIS_RETRY = 1.0
STOP_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    consumer: str = field(default_factory=lambda: f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}")
    retry_delays: tuple[float, ...] = RETRY_DELAYS
    queue_size: int = QUEUE_SIZE
    attempt_timeout: float = ATTEMPT_TIMEOUT


@dataclass(slots=True)
class _Lane:
    """One output's queue and the task that works through it."""

    queue: asyncio.Queue[OutputEvent]
    task: asyncio.Task[None]


class OutputsWorker:
    def __init__(self, config: WorkerConfig | None = None) -> None:
        self.config = config or WorkerConfig()
        self.redis: aioredis.Redis = new_async_client()
        self.outputs = lookup.OutputDirectory()
        self._lanes: dict[int, _Lane] = {}
        self._drivers: dict[str, Driver] = {}
        self._records: list[AttemptRecord] = []
        self._reload = asyncio.Event()
        self._reading = False
        self._forgetting: set[asyncio.Task[None]] = set()  # links of removed outputs closing

    def is_reading(self) -> bool:
        """Tell whether the consumer group exists and the outputs are loaded: events
        added from now on reach this worker."""
        return self._reading

    async def run(self) -> None:
        """Deliver until cancelled; then stop the queues and save what was recorded."""
        try:
            await self._load_until_ready()
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._read_loop())
                tasks.create_task(self._reload_loop())
                tasks.create_task(self._write_loop())
                tasks.create_task(events.listen(self.redis, self._on_change, self._reload.set))
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        lanes = [lane.task for lane in self._lanes.values()]
        for task in lanes:
            task.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        self._lanes.clear()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(STOP_TIMEOUT):
                await self._write_records()
        for driver in self._drivers.values():
            with contextlib.suppress(Exception):
                await driver.close()
        await self.redis.aclose()

    # ------------------------------------------------------------------ the outputs

    async def _load_until_ready(self) -> None:
        while True:
            try:
                await run_db(self.outputs.load)
                return
            except Exception:
                logger.warning("outputs: database unavailable; retrying", exc_info=True)
                await asyncio.sleep(REDIS_RETRY)

    def _on_change(self, change: dict[str, Any]) -> None:
        if change.get("kind") == "output.changed":
            self._reload.set()

    async def _reload_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RELOAD_EVERY):
                    await self._reload.wait()
            self._reload.clear()
            try:
                await run_db(self.outputs.load)
            except Exception:
                logger.warning("outputs: could not reload the outputs", exc_info=True)
                continue
            self._drop_lanes_of_removed()

    def _drop_lanes_of_removed(self) -> None:
        for output_id in [oid for oid in self._lanes if not self.outputs.has(oid)]:
            self._lanes.pop(output_id).task.cancel()
            self._let_go(output_id)
        for output_id in self._lanes:
            known = self.outputs.get(output_id)
            if known is not None and not known.enabled:
                self._let_go(output_id)  # says offline; a test event connects it again

    def _let_go(self, output_id: int) -> None:
        """Close an output's connections (MQTT) in the background."""
        for driver in self._drivers.values():
            if isinstance(driver, KeepsLinks):
                task = asyncio.create_task(driver.forget(output_id))
                self._forgetting.add(task)  # held, or the loop may drop it half done
                task.add_done_callback(self._forgetting.discard)

    # ------------------------------------------------------------------ the stream

    async def _read_loop(self) -> None:
        while True:
            try:
                await self._ensure_group()
                self._reading = True
                await self._read_batches()
            except (RedisError, OSError):
                logger.info("outputs: stream unavailable; retrying", exc_info=True)
                await asyncio.sleep(REDIS_RETRY)

    async def _ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(keys.outputs(), CONSUMER_GROUP, id="$", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def _read_batches(self) -> None:
        stream = keys.outputs()
        while True:
            answer: Any = await self.redis.xreadgroup(
                CONSUMER_GROUP,
                self.config.consumer,
                {stream: ">"},
                count=READ_COUNT,
                block=READ_BLOCK_MS,
            )
            for _, entries in answer or ():
                await self._dispatch([fields.get(FIELD.encode(), b"") for _, fields in entries])
                # Handed to the queues: a worker that dies now loses these, never repeats.
                await self.redis.xack(stream, CONSUMER_GROUP, *[eid for eid, _ in entries])

    async def _dispatch(self, raw_entries: Sequence[bytes]) -> None:
        decoded = [entry for entry in map(_decode, raw_entries) if entry is not None]
        if any(self._names_unknown_output(entry) for entry in decoded):
            await run_db(self.outputs.load)  # made a moment ago: its announcement is on the way
        targeted = [(entry, self._targets(entry)) for entry in decoded]
        wanted = [(entry, targets) for entry, targets in targeted if targets]
        if not wanted:
            return
        described = await run_db(lookup.describe, [entry for entry, _ in wanted])
        for (_, targets), by_group in zip(wanted, described, strict=True):
            for output_id, group_id in targets:
                event = by_group.get(group_id)
                if event is not None:
                    self._enqueue(output_id, event)

    def _names_unknown_output(self, entry: dict[str, Any]) -> bool:
        return entry.get("output") is not None and self.outputs.get(entry["output"]) is None

    def _targets(self, entry: dict[str, Any]) -> list[tuple[int, int]]:
        """Return (output, group) for every output that is to be told this entry."""
        if entry["kind"] == OutputEventKind.TEST:
            output = self.outputs.get(entry.get("output"))
            return [] if output is None else [(output.id, output.group_id)]
        return [
            (output.id, group_id)
            for group_id in entry["groups"]
            for output in self.outputs.of_group(group_id)
            if output.enabled and entry["kind"] in output.events
        ]

    # ------------------------------------------------------------------ delivering

    def _enqueue(self, output_id: int, event: OutputEvent) -> None:
        lane = self._lanes.get(output_id)
        if lane is None or lane.task.done():
            queue: asyncio.Queue[OutputEvent] = asyncio.Queue(self.config.queue_size)
            task = asyncio.create_task(self._deliver_queue(output_id, queue))
            lane = self._lanes[output_id] = _Lane(queue, task)
        try:
            lane.queue.put_nowait(event)
        except asyncio.QueueFull:
            waiting = lane.queue.qsize()
            self._record(
                output_id, event, 0, DeliveryResult(False, error=f"{waiting} events waiting")
            )

    async def _deliver_queue(self, output_id: int, queue: asyncio.Queue[OutputEvent]) -> None:
        while True:
            event = await queue.get()
            await self._deliver(output_id, event)

    async def _deliver(self, output_id: int, event: OutputEvent) -> None:
        """Try up to 1 + len(retry_delays) times, waiting the next delay after a failure."""
        delays = self.config.retry_delays
        for attempt in range(1, len(delays) + 2):
            output = self.outputs.get(output_id)
            if output is None:
                return  # removed meanwhile
            started = time.monotonic()
            result = await self._attempt(output.delivery, event)
            self._record(output_id, event, attempt, result, time.monotonic() - started)
            if result.ok:
                return
            if attempt > len(delays):
                return
            await asyncio.sleep(delays[attempt - 1])

    async def _attempt(self, output: OutputConfig, event: OutputEvent) -> DeliveryResult:
        try:
            driver = self._driver(output.kind)
            async with asyncio.timeout(self.config.attempt_timeout):
                return await driver.deliver(event, output)
        except TimeoutError:
            return DeliveryResult(False, error=f"no answer in {self.config.attempt_timeout:g} s")
        except Exception as error:  # a driver's bug must not end the output's queue
            logger.exception("outputs: the %s driver failed", output.kind)
            return DeliveryResult(
                False, error=f"the {output.kind} driver failed: {type(error).__name__}"
            )

    def _driver(self, kind: str) -> Driver:
        driver = self._drivers.get(kind)
        if driver is None:
            driver = self._drivers[kind] = driver_class(kind)()
            if isinstance(driver, ReadsUnitStates):
                driver.use_unit_states(RedisUnitStates(self.redis))
        return driver

    # ------------------------------------------------------------------ the log

    def _record(
        self,
        output_id: int,
        event: OutputEvent,
        attempt: int,
        result: DeliveryResult,
        duration: float = 0.0,
    ) -> None:
        last = attempt == 0 or attempt > len(self.config.retry_delays)
        if result.ok:
            status = DeliveryStatus.DELIVERED
        else:
            status = DeliveryStatus.GIVING_UP if last else DeliveryStatus.FAILED
        self._records.append(
            AttemptRecord(
                output_id=output_id,
                organization_id=event.organization_id,
                event_kind=event.kind,
                event_id=str(event.id),
                attempt=attempt,
                status=status,
                response_code=result.response_code,
                error=result.error,
                duration_ms=round(duration * 1000, 1),
            )
        )

    async def _write_loop(self) -> None:
        while True:
            await asyncio.sleep(WRITE_EVERY)
            try:
                await self._write_records()
            except Exception:
                logger.warning("outputs: could not save the delivery log", exc_info=True)

    async def _write_records(self) -> None:
        if not self._records:
            return
        batch, self._records = self._records, []
        try:
            await run_db(OutputService.record_attempts, batch)
        except Exception:
            self._records = [*batch, *self._records][-10 * READ_COUNT :]  # bounded
            raise


def _decode(raw: bytes) -> dict[str, Any] | None:
    try:
        entry = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str):
        return None
    entry.setdefault("groups", [])
    return entry
