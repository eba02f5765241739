"""Many simulated Shure receivers in one process, for the stage, demos and benchmarks.

Each device costs one listening socket and one task (its clock and meters), however many
channels it has. Run from a shell to get a rack of receivers on consecutive ports:

    python -m realtime.simulation.shure_tcp.fleet --model ULXD4Q --count 10 --base-port 22020
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from types import TracebackType

from realtime.protocols.shure_tcp.families import MODELS
from realtime.simulation.base import FaultRates
from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator


class SimulatorFleet:
    """`count` simulators of one model, seeded `seed`, `seed + 1`, … so each differs."""

    def __init__(
        self,
        count: int,
        model: str = "ULXD4Q",
        *,
        host: str = "127.0.0.1",
        base_port: int = 0,
        seed: int = 0,
        faults: FaultRates = FaultRates(),  # noqa: B008 - frozen, so sharing is safe
        time_scale: float = 1.0,
    ) -> None:
        self.devices = [
            ShureTcpSimulator(
                model,
                host=host,
                port=base_port + i if base_port else 0,
                seed=seed + i,
                faults=faults,
                time_scale=time_scale,
            )
            for i in range(count)
        ]

    async def start(self) -> None:
        """Start every device (ports are bound one after the other)."""
        for device in self.devices:
            await device.start()

    async def stop(self) -> None:
        """Stop every device."""
        await asyncio.gather(*(device.stop() for device in self.devices))

    async def __aenter__(self) -> SimulatorFleet:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run simulated Shure TCP 2202 receivers.")
    parser.add_argument("--model", default="ULXD4Q", choices=sorted(MODELS))
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--base-port", type=int, default=0, help="0 picks free ports")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-scale", type=float, default=1.0)
    return parser.parse_args()


async def _serve_forever(args: argparse.Namespace) -> None:
    fleet = SimulatorFleet(
        args.count,
        args.model,
        host=args.host,
        base_port=args.base_port,
        seed=args.seed,
        time_scale=args.time_scale,
    )
    async with fleet:
        for device in fleet.devices:
            print(f"{device.spec.name} {device.host}:{device.port}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    """Run a fleet from the command line until interrupted."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(_arguments()))


if __name__ == "__main__":
    main()
