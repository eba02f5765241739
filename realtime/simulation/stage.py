"""The simulated stage: which devices, on which ports, misbehaving how often.

A stage is described by a small TOML file (or the built-in demo stage):

    seed = 7
    time_scale = 30          # the clock of battery drain runs 30x faster
    base_port = 22000        # device i listens on base_port + i (0: any free port)
    [faults]                 # expected events per hour, per device (FaultRates fields)
    tx_power_cycle = 2
    [[devices]]
    family = "shure_tcp"     # shure_tcp | sennheiser_ssc | sennheiser_ew | sennheiser_ssc1 |
                             # shure_api (one server, many devices)
    model = "ULXD4Q"
    count = 2

Ports are fixed by position so `seed_demo` can import the very devices that
`simulate_devices` will serve, before they are started.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from micboard.devices import DeviceInfo, Protocol
from realtime.simulation.base import FaultRates, SimulatedDevice

DEMO_SSC_PASSWORD = "Micboard-Sim-1!"
DEMO_SHURE_API_KEY = "micboard-demo-key"


@dataclass(frozen=True, slots=True)
class DeviceGroup:
    """`count` simulated receivers of one model."""

    family: Protocol
    model: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class StageConfig:
    devices: tuple[DeviceGroup, ...]
    seed: int = 1
    host: str = "127.0.0.1"
    base_port: int = 22000
    time_scale: float = 1.0
    faults: FaultRates = field(default_factory=FaultRates)
    ssc_password: str = DEMO_SSC_PASSWORD
    shure_api_key: str = DEMO_SHURE_API_KEY
    # Networked chargers (models), on the ports after the receivers'. Not receivers: they
    # are Charger rows, read by the poller for the Chargers page.
    chargers: tuple[str, ...] = ()


DEMO_STAGE = StageConfig(
    devices=(
        DeviceGroup(Protocol.SHURE_TCP, "ULXD4Q", 2),
        DeviceGroup(Protocol.SHURE_TCP, "AD4D", 1),
        DeviceGroup(Protocol.SHURE_TCP, "SLXD4D", 1),
        DeviceGroup(Protocol.SHURE_TCP, "P10T", 1),
        DeviceGroup(Protocol.SENNHEISER_SSC, "EW-DX EM 4 DANTE", 1),
        DeviceGroup(Protocol.SENNHEISER_EW, "EM 300-500 G4", 1),
        DeviceGroup(Protocol.SENNHEISER_SSC1, "EM6000", 1),
    ),
    seed=7,
    time_scale=20.0,
    # Batteries drain 20x faster; the stage crew changes a pack once it is nearly flat (a
    # few checks a minute), so a demo left open for hours is never all red.
    faults=FaultRates(tx_power_cycle=1.0, malformed_frame=2.0, split_frame=30.0, pack_change=240.0),
    chargers=("SBC850",),
)
# The demo charger's packs: bay -> (charge %, health %, cycles, error code).
DEMO_PACKS = {
    1: (100, 98, 41, 0),
    2: (100, 96, 120, 0),
    3: (82, 91, 233, 0),
    4: (100, 96, 87, 0),
    5: (35, 74, 402, 0),
    7: (0, 0, 0, 7),
}


def load_config(path: Path) -> StageConfig:
    """Read a stage from TOML; raise ValueError naming what is wrong."""
    data = tomllib.loads(path.read_text())
    if "chargers" in data:
        data["chargers"] = tuple(str(model) for model in data["chargers"])
    try:
        devices = tuple(
            DeviceGroup(Protocol(d["family"]), str(d["model"]), int(d.get("count", 1)))
            for d in data.get("devices", [])
        )
        faults = FaultRates(**{k: float(v) for k, v in data.get("faults", {}).items()})
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"bad stage file {path}: {error}") from error
    scalars = {f.name for f in fields(StageConfig)} - {"devices", "faults"}
    unknown = set(data) - scalars - {"devices", "faults"}
    if unknown:
        raise ValueError(f"bad stage file {path}: unknown keys {sorted(unknown)}")
    return StageConfig(devices=devices, faults=faults, **{k: data[k] for k in scalars if k in data})


def build_simulators(config: StageConfig, *, host: str | None = None) -> list[SimulatedDevice]:
    """Create (not start) every simulator of the stage, each on its own fixed port."""
    simulators: list[SimulatedDevice] = []
    for group in config.devices:
        make = _FACTORIES[group.family]
        for _ in range(group.count):
            index = len(simulators)
            port = config.base_port + index if config.base_port else 0
            simulators.append(make(group.model, host or config.host, port, config, index))
    return simulators


def build_chargers(config: StageConfig, *, host: str | None = None) -> list[Any]:
    """Create (not start) the stage's charger simulators, each on its own fixed port."""
    from realtime.simulation.shure_charger.simulator import ShureChargerSimulator

    first = config.base_port + sum(g.count for g in config.devices) if config.base_port else 0
    chargers = []
    for index, model in enumerate(config.chargers):
        port = first + index if first else 0
        charger = ShureChargerSimulator(
            model,
            host=host or config.host,
            port=port,
            name=f"CHARGER {index + 1}",
            time_scale=config.time_scale,
        )
        for bay, (charge, health, cycles, error) in DEMO_PACKS.items():
            if bay in charger.packs:
                charger.insert(bay, charge=charge, health=health, cycles=cycles, error=error)
        chargers.append(charger)
    return chargers


def device_infos(config: StageConfig) -> list[DeviceInfo]:
    """Return what discovery would learn about every device of the stage."""
    return [info for simulator in build_simulators(config) for info in served_devices(simulator)]


def served_devices(simulator: SimulatedDevice) -> list[DeviceInfo]:
    """Return every device a simulator serves: one, or all those behind a System API server."""
    fronted = getattr(simulator, "devices", None)
    if not isinstance(fronted, dict):
        return [simulator.device_info()]
    infos = [simulator.device_info(device_id) for device_id in fronted]  # type: ignore[call-arg]
    return [info for info in infos if info.channels]  # DISCOVERED devices have none yet


def _shure_tcp(model: str, host: str, port: int, config: StageConfig, index: int) -> Any:
    from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator

    return ShureTcpSimulator(
        model,
        host=host,
        port=port,
        seed=config.seed * 1000 + index,
        faults=config.faults,
        time_scale=config.time_scale,
        channel_names=_demo_channel_names(index),
    )


def _sennheiser_ssc(model: str, host: str, port: int, config: StageConfig, index: int) -> Any:
    from realtime.simulation.sennheiser_ssc.simulator import SennheiserSscSimulator

    return SennheiserSscSimulator(
        model,
        host=host,
        port=port,
        password=config.ssc_password,
        seed=config.seed * 1000 + index,
        faults=config.faults,
        time_scale=config.time_scale,
    )


def _sennheiser_ew(model: str, host: str, port: int, config: StageConfig, index: int) -> Any:
    from realtime.simulation.sennheiser_ew.simulator import SennheiserEwSimulator

    return SennheiserEwSimulator(
        model,
        host=host,
        port=port,
        name=f"EW{index + 1}",
        seed=config.seed * 1000 + index,
        faults=config.faults,
        time_scale=config.time_scale,
    )


def _sennheiser_ssc1(model: str, host: str, port: int, config: StageConfig, index: int) -> Any:
    from realtime.simulation.sennheiser_ssc1.simulator import SennheiserSsc1Simulator

    return SennheiserSsc1Simulator(
        model,
        host=host,
        port=port,
        name=f"EM6000-{index + 1}",
        channel_names=(f"D6K{index + 1}-1", f"D6K{index + 1}-2"),
        seed=config.seed * 1000 + index,
        faults=config.faults,
        time_scale=config.time_scale,
    )


def _shure_api(model: str, host: str, port: int, config: StageConfig, index: int) -> Any:
    """A System API server with its usual mix of devices (`model` names the stage's label)."""
    from realtime.simulation.shure_api.simulator import ShureSystemApiSimulator

    return ShureSystemApiSimulator(
        host=host,
        port=port,
        api_key=config.shure_api_key,
        seed=config.seed * 1000 + index,
        faults=config.faults,
        battery_tick=60.0 / config.time_scale,
    )


def _demo_channel_names(index: int) -> list[str]:
    return [f"RX{index + 1}-{n}" for n in range(1, 9)]


_FACTORIES: dict[Protocol, Callable[[str, str, int, StageConfig, int], SimulatedDevice]] = {
    Protocol.SHURE_TCP: _shure_tcp,
    Protocol.SENNHEISER_SSC: _sennheiser_ssc,
    Protocol.SHURE_API: _shure_api,
    Protocol.SENNHEISER_EW: _sennheiser_ew,
    Protocol.SENNHEISER_SSC1: _sennheiser_ssc1,
}
