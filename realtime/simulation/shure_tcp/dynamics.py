"""How a simulated channel behaves over time: battery drain, RF and speech-like audio.

Values live in physical units (percent, minutes, dBm, dBFS); `render.py` turns them into
each family's wire format. Slow things (battery) follow the simulator's scaled clock in
minutes; fast things (RF jitter, speech) follow real seconds so meters look right at any
time scale. Every random draw comes from the device's `random.Random(seed)`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from realtime.simulation.base import FaultRates

RUNTIME_MINUTES = {"LION": 660.0, "ALKA": 510.0, "NIMH": 420.0}  # SB900 ~11 h, 2xAA ~8.5 h
CALCULATING_MINUTES = 3.0  # runtime reads 65534 "calculating" this long after power-on
NOISE_FLOOR_DBM = (-110.0, -105.0)
SILENCE_DBFS = (-72.0, -60.0)
METER_FLOOR_DBFS = -120.0
DIPS_PER_SECOND = 1 / 25  # body shadowing
FLIPS_PER_SECOND = 4 / 60  # diversity A<->B "several times a minute"
CLIPS_PER_SECOND = 1 / 90  # of talking
MAX_STEP_SECONDS = 1.0
METER_REUSE_SECONDS = 0.02  # two clients asking within this share one measurement
CHANNEL_NAMES = (
    "Lead Vox",
    "Pastor",
    "Guitar",
    "Keys Vox",
    "Bass Vox",
    "Choir L",
    "Choir R",
    "Host",
    "Sax",
    "Drums",
    "Podium",
    "Guest 1",
)


def bars_for_percent(percent: float) -> int:
    """Return the bars a receiver shows: one per started 20 %."""
    return 0 if percent <= 0 else min(5, math.ceil(percent / 20.0))


def percent_for_bars(bars: int) -> float:
    """Return a charge in the middle of the band that shows `bars` bars."""
    return 0.0 if bars <= 0 else min(100.0, bars * 20.0 - 10.0)


@dataclass(slots=True)
class Battery:
    """A transmitter's battery: drains linearly; runtime known only for Shure rechargeables."""

    kind: str = "LION"
    percent: float = 100.0
    minutes: float = RUNTIME_MINUTES["LION"]
    calculating_minutes: float = CALCULATING_MINUTES
    health: int = 95
    cycles: int = 40
    temp_c: int = 28

    @property
    def bars(self) -> int:
        """Return the bars the receiver shows."""
        return bars_for_percent(self.percent)

    @property
    def rechargeable(self) -> bool:
        """Return whether the pack reports charge, health and runtime (Shure Li-ion)."""
        return self.kind == "LION"

    def force(
        self, *, bars: int | None = None, percent: int | None = None, minutes: int | None = None
    ) -> None:
        """Set the charge and runtime by hand; bars alone pick the middle of their band."""
        if bars is not None and percent is not None and bars_for_percent(percent) != bars:
            raise ValueError(f"{percent} % shows {bars_for_percent(percent)} bars, not {bars}")
        if percent is None and bars is not None:
            percent = round(percent_for_bars(bars))
        if percent is not None:
            self.percent = float(percent)
            self.minutes = RUNTIME_MINUTES[self.kind] * percent / 100.0
        if minutes is not None:
            self.minutes = float(minutes)
            self.calculating_minutes = 0.0

    def drain(self, minutes: float) -> None:
        """Run the transmitter for `minutes` of simulated time."""
        self.percent = max(0.0, self.percent - minutes * 100.0 / RUNTIME_MINUTES[self.kind])
        self.minutes = max(0.0, self.minutes - minutes)
        self.calculating_minutes = max(0.0, self.calculating_minutes - minutes)


def fresh_battery(rng: random.Random, *, kind: str = "LION", percent: float = 100.0) -> Battery:
    """Return a battery at `percent`, its runtime still being calculated."""
    return Battery(
        kind=kind,
        percent=percent,
        minutes=RUNTIME_MINUTES[kind] * percent / 100.0,
        health=rng.randint(80, 100),
        cycles=rng.randint(5, 300),
        temp_c=rng.randint(24, 34),
    )


@dataclass(frozen=True, slots=True)
class Meters:
    """One measurement of a channel, in physical units."""

    rf_a_dbm: float
    rf_b_dbm: float
    antenna: str | None  # A, B or None (no carrier)
    rms_dbfs: float
    peak_dbfs: float
    clipped: bool

    @property
    def rf_dbm(self) -> float:
        """Return the level of the active antenna (the stronger one)."""
        return max(self.rf_a_dbm, self.rf_b_dbm)


@dataclass(slots=True)
class Rf:
    """A diversity link: jitter around a base level, body-shadow dips, antenna flips."""

    base_dbm: float
    level_dbm: float = -60.0
    antenna: str = "A"
    next_flip: float = 0.0
    next_dip: float = 0.0
    dip_end: float = 0.0
    dip_db: float = 0.0

    def step(self, now: float, rng: random.Random) -> tuple[float, float]:
        """Advance to `now` (seconds) and return the levels of antennas A and B."""
        if now >= self.next_flip:
            self.antenna = "B" if self.antenna == "A" else "A"
            self.next_flip = now + rng.expovariate(FLIPS_PER_SECOND)
        if now >= self.next_dip:
            self.dip_end = now + rng.uniform(0.5, 3.0)
            self.dip_db = rng.uniform(10.0, 20.0)
            self.next_dip = self.dip_end + rng.expovariate(DIPS_PER_SECOND)
        self.level_dbm += (self.base_dbm + rng.gauss(0.0, 4.0) - self.level_dbm) * 0.5
        active = self.level_dbm - (self.dip_db if now < self.dip_end else 0.0)
        other = active - rng.uniform(2.0, 8.0)
        return (active, other) if self.antenna == "A" else (other, active)


@dataclass(slots=True)
class Speech:
    """Bursty speech: phrases of syllables at 2-5 Hz, pauses, and a rare clip."""

    talking: bool = False
    phase_end: float = 0.0
    voice_dbfs: float = -25.0
    syllable_hz: float = 3.0
    last_step: float = 0.0

    def step(self, now: float, rng: random.Random) -> tuple[float, float, bool]:
        """Advance to `now` (seconds) and return RMS dBFS, peak dBFS and a clip flag."""
        elapsed, self.last_step = min(MAX_STEP_SECONDS, now - self.last_step), now
        if now >= self.phase_end:
            self._next_phase(now, rng)
        if not self.talking:
            rms = rng.uniform(*SILENCE_DBFS)
            return rms, rms + rng.uniform(2.0, 6.0), False
        envelope = 0.5 + 0.5 * math.sin(2.0 * math.pi * self.syllable_hz * now)
        rms = min(-15.0, max(-40.0, self.voice_dbfs - 15.0 * (1.0 - envelope) + rng.gauss(0, 2)))
        if rng.random() < CLIPS_PER_SECOND * elapsed:
            return rms, 0.0, True
        return rms, min(-1.0, rms + rng.uniform(6.0, 12.0)), False

    def _next_phase(self, now: float, rng: random.Random) -> None:
        self.talking = not self.talking
        self.phase_end = now + (rng.uniform(2.0, 8.0) if self.talking else rng.uniform(0.5, 4.0))
        self.voice_dbfs = rng.uniform(-32.0, -18.0)
        self.syllable_hz = rng.uniform(2.0, 5.0)


@dataclass(slots=True)
class Channel:
    """One receive channel and the transmitter linked to it."""

    number: int
    name: str
    frequency_khz: int
    tx_model: str
    battery: Battery
    rf: Rf
    speech: Speech = field(default_factory=Speech)
    tx_on: bool = True
    tx_muted: bool = False
    tx_offset_db: int = 0
    gain_raw: int = 18  # 0..60 = -18..+42 dB
    audio_muted: bool = False
    interference: bool = False
    back_on_at: float | None = None  # sim minutes; set while a power cycle is under way
    _meters: Meters | None = None
    _measured_at: float = -1.0

    def power(self, on: bool) -> None:
        """Switch the transmitter; a power-on restarts the runtime calculation."""
        if on and not self.tx_on:
            self.battery.calculating_minutes = CALCULATING_MINUTES
        self.tx_on = on
        self.back_on_at = None
        self._meters = None  # the next measurement must show the change

    def mute(self, muted: bool) -> None:
        """Mute or unmute the transmitter; its meters drop to the floor while muted."""
        self.tx_muted = muted
        self._meters = None

    def meters(self, now: float, rng: random.Random) -> Meters:
        """Return the measurement at `now` (seconds), shared by clients asking together."""
        if self._meters is None or now - self._measured_at >= METER_REUSE_SECONDS:
            self._meters = self._measure(now, rng)
            self._measured_at = now
        return self._meters

    def _measure(self, now: float, rng: random.Random) -> Meters:
        if not self.tx_on:
            a, b = rng.uniform(*NOISE_FLOOR_DBM), rng.uniform(*NOISE_FLOOR_DBM)
            return Meters(a, b, None, METER_FLOOR_DBFS, METER_FLOOR_DBFS, False)
        a, b = self.rf.step(now, rng)
        rms, peak, clipped = self.speech.step(now, rng)
        if self.tx_muted:
            rms, peak, clipped = METER_FLOOR_DBFS, METER_FLOOR_DBFS, False
        return Meters(a, b, self.rf.antenna, rms, peak, clipped)


def make_channels(
    count: int, tx_model: str, rng: random.Random, now: float, names: Sequence[str] = ()
) -> list[Channel]:
    """Return `count` channels with frequencies and batteries drawn from `rng`.

    Channels take the given names in order; any left over get names drawn from `rng`.
    """
    names = list(names[:count])
    names += rng.sample(CHANNEL_NAMES, count - len(names))
    return [_make_channel(n, names[n - 1], tx_model, rng, now) for n in range(1, count + 1)]


def _make_channel(number: int, name: str, tx_model: str, rng: random.Random, now: float) -> Channel:
    base = rng.uniform(-68.0, -48.0)
    rf = Rf(base_dbm=base, level_dbm=base, antenna=rng.choice("AB"))
    rf.next_flip = now + rng.expovariate(FLIPS_PER_SECOND)
    rf.next_dip = now + rng.expovariate(DIPS_PER_SECOND)
    return Channel(
        number=number,
        name=name,
        frequency_khz=rng.randrange(470_000, 608_000, 25),
        tx_model=tx_model,
        battery=fresh_battery(rng, percent=rng.uniform(45.0, 100.0)),
        rf=rf,
        tx_offset_db=rng.choice((0, 3, 6)),
    )


class FaultClock:
    """When each kind of fault next strikes, drawn from FaultRates (events per sim hour)."""

    def __init__(self, rates: FaultRates, rng: random.Random) -> None:
        self._rng = rng
        self._per_second = {f.name: getattr(rates, f.name) / 3600.0 for f in fields(rates)}
        self._next = {
            kind: rng.expovariate(rate) for kind, rate in self._per_second.items() if rate > 0
        }

    def due(self, kind: str, now: float) -> bool:
        """Return whether a `kind` fault strikes at `now` (sim seconds), and schedule the next."""
        at = self._next.get(kind)
        if at is None or now < at:
            return False
        self._next[kind] = now + self._rng.expovariate(self._per_second[kind])
        return True
