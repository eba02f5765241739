"""Evolve one simulated EW-DX channel: battery drain, RF jitter and dips, bursty speech.

Numbers follow the "realistic dynamics" notes for EW-DX: a BA 70 pack lasts about 12 h,
a healthy link sits at -45..-70 dBm with a few dB of jitter and 10-20 dB body-shadow dips,
diversity flips several times a minute, speech is bursty at 2-5 Hz between -40 and -15 dBFS
with peaks to -6 and an occasional clip. Everything is driven by one seeded Random per
channel, so a given seed always produces the same sequence of values.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from realtime.protocols.sennheiser_ssc.wire import CALCULATING_MINUTES

FULL_RUNTIME_MINUTES = 12 * 60  # BA 70 on an EW-DX SK/SKM
CALCULATING_SECONDS = 120.0  # the pack reports 65534 this long after power-on
LOW_BATTERY_PERCENT = 10
RSSI_OFF_DBM = -107.0
LEVEL_FLOOR_DBFS = -138.5
PER_MINUTE = 1 / 60

TX_TYPES = ("EW_DX_SKM", "EW_DX_SK", "EW_DX_SKM_S", "EW_DX_SK_3_PIN")


def _chance(rng: random.Random, per_second: float, dt: float) -> bool:
    """Decide whether an event with the given rate happens in the next dt seconds."""
    return rng.random() < per_second * dt


@dataclass(slots=True)
class Battery:
    """A transmitter pack that drains linearly over its full runtime.

    Gauge and runtime are separate measurements on the device, so they are kept apart.
    """

    charge: float  # percent
    minutes: float
    calculating_for: float = 0.0  # simulated seconds left showing "calculating"

    @classmethod
    def at(cls, percent: float) -> Battery:
        """Build a pack charged to `percent` with the matching runtime."""
        return cls(percent, percent * FULL_RUNTIME_MINUTES / 100)

    @property
    def percent(self) -> int:
        """Return the charge as a whole percentage."""
        return max(0, min(100, round(self.charge)))

    @property
    def lifetime(self) -> int:
        """Return the runtime the pack reports: minutes, or the placeholder while calculating."""
        # Whole minutes left, counted the way a countdown shows them (250.0 to 249.01 is 250).
        return CALCULATING_MINUTES if self.calculating_for > 0 else math.ceil(self.minutes)

    def drain(self, seconds: float) -> None:
        """Spend `seconds` of simulated time."""
        self.minutes = max(0.0, self.minutes - seconds / 60)
        self.charge = max(0.0, self.charge - 100 * seconds / 60 / FULL_RUNTIME_MINUTES)
        self.calculating_for = max(0.0, self.calculating_for - seconds)


@dataclass(slots=True)
class Link:
    """The RF side of a channel: RSSI around a base level, dips, antenna, interference."""

    base_dbm: float
    rssi_dbm: float = RSSI_OFF_DBM
    antenna: int = 1  # 1 = A, 2 = B
    dip_db: float = 0.0
    dip_for: float = 0.0
    rf_peak_for: float = 0.0

    def step(self, rng: random.Random, dt: float) -> None:
        """Advance dt seconds: jitter, maybe start a body-shadow dip, maybe flip antenna."""
        self.dip_for = max(0.0, self.dip_for - dt)
        self.rf_peak_for = max(0.0, self.rf_peak_for - dt)
        if self.dip_for == 0.0 and _chance(rng, 3 * PER_MINUTE, dt):
            self.dip_db, self.dip_for = rng.uniform(10, 20), rng.uniform(0.5, 3.0)
        if _chance(rng, 4 * PER_MINUTE, dt):
            self.antenna = 3 - self.antenna
        if _chance(rng, 0.1 * PER_MINUTE, dt):
            self.rf_peak_for = rng.uniform(2.0, 5.0)
        dip = self.dip_db if self.dip_for > 0 else 0.0
        self.rssi_dbm = max(RSSI_OFF_DBM, min(0.0, self.base_dbm + rng.gauss(0, 2.0) - dip))

    @property
    def rsqi(self) -> int:
        """Return the signal quality: 90-100 on a good link, falling to 0 near -95 dBm."""
        if self.rssi_dbm >= -80:
            return min(100, 90 + round((self.rssi_dbm + 80) / 3))
        return max(0, round(90 * (self.rssi_dbm + 95) / 15))


@dataclass(slots=True)
class Voice:
    """A talker: speech bursts with syllables at 2-5 Hz, pauses, and rare clips."""

    level_dbfs: float = LEVEL_FLOOR_DBFS
    talking: bool = False  # the first step starts a talk phase
    phase_for: float = 0.0  # seconds left in the current talk or pause phase
    syllable_dbfs: float = -30.0
    syllable_for: float = 0.0
    clip_for: float = 0.0

    def step(self, rng: random.Random, dt: float) -> None:
        """Advance dt seconds and set the AF meter level."""
        self._advance_phase(rng, dt)
        self.clip_for = max(0.0, self.clip_for - dt)
        if self.talking and self.clip_for == 0.0 and _chance(rng, 0.5 * PER_MINUTE, dt):
            self.clip_for = rng.uniform(0.5, 1.0)
        self.level_dbfs = round(self._level(rng), 1)

    def _advance_phase(self, rng: random.Random, dt: float) -> None:
        """Move between talking and pausing, and pick a new syllable target when due."""
        self.phase_for -= dt
        if self.phase_for <= 0:
            self.talking = not self.talking
            self.phase_for = rng.uniform(2.0, 8.0) if self.talking else rng.uniform(0.5, 3.0)
        self.syllable_for -= dt
        if self.syllable_for <= 0:
            self.syllable_for = 1 / rng.uniform(2.0, 5.0)
            loud = rng.random() < 0.1
            self.syllable_dbfs = rng.uniform(-15, -6) if loud else rng.uniform(-40, -15)

    def _level(self, rng: random.Random) -> float:
        """Return the meter value for the current phase."""
        if self.clip_for > 0:
            return rng.uniform(-0.5, 0.0)
        if not self.talking:
            return min(-60.0, rng.gauss(-66, 2))
        return min(-1.0, self.syllable_dbfs + rng.gauss(0, 1.5))


@dataclass(slots=True)
class ChannelDynamics:
    """One receive channel and the transmitter linked to it."""

    rng: random.Random
    tx_type: str
    battery: Battery
    link: Link
    voice: Voice
    tx_on: bool = True
    tx_muted: bool = False

    @classmethod
    def create(cls, seed: int, index: int) -> ChannelDynamics:
        """Build channel `index` (0-based) deterministically from the device seed."""
        rng = random.Random(f"ewdx:{seed}:{index}")
        battery = Battery.at(rng.uniform(60, 100))
        link = Link(base_dbm=rng.uniform(-68, -48))
        channel = cls(rng, TX_TYPES[index % len(TX_TYPES)], battery, link, Voice())
        channel.step(0.0)  # so the first values read are live ones, not the off-state floor
        return channel

    def step(self, dt: float, *, time_scale: float = 1.0) -> None:
        """Advance dt real seconds; the battery runs time_scale times faster."""
        if not self.tx_on:
            return
        self.battery.drain(dt * time_scale)
        self.link.step(self.rng, dt)
        self.voice.step(self.rng, dt)

    def power(self, *, on: bool) -> None:
        """Switch the transmitter; a fresh power-on recalculates the runtime first."""
        was_on, self.tx_on = self.tx_on, on
        if on and not was_on:
            self.battery.calculating_for = CALCULATING_SECONDS
            self.step(0.0)

    @property
    def rssi_dbm(self) -> float:
        """Return the RSSI the receiver shows (the floor while the TX is off)."""
        return round(self.link.rssi_dbm, 1) if self.tx_on else RSSI_OFF_DBM

    @property
    def rsqi(self) -> int:
        """Return the signal quality (0 while the TX is off)."""
        return self.link.rsqi if self.tx_on else 0

    @property
    def diversity(self) -> int:
        """Return the active antenna: 0 none, 1 A, 2 B."""
        return self.link.antenna if self.tx_on else 0

    @property
    def level_dbfs(self) -> float:
        """Return the AF meter (the floor while the TX is off or muted)."""
        return self.voice.level_dbfs if self.tx_on and not self.tx_muted else LEVEL_FLOOR_DBFS

    def channel_warnings(self) -> list[str]:
        """List the receiver-side warnings in the order the device reports them."""
        if not self.tx_on:
            return ["NoLink"]
        flags = {
            "LowSignal": self.link.rssi_dbm < -90,
            "RfPeak": self.link.rf_peak_for > 0,
            "AfPeak": self.voice.clip_for > 0,
        }
        return [name for name, active in flags.items() if active]

    def tx_warnings(self) -> list[str]:
        """List the transmitter-side warnings (only meaningful while the TX is on)."""
        flags = {
            "LowBattery": self.battery.percent <= LOW_BATTERY_PERCENT,
            "AfPeak": self.voice.clip_for > 0,
        }
        return [name for name, active in flags.items() if active]
