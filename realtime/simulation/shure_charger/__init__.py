"""A simulated Shure networked charger (TCP 2202 command strings)."""

from realtime.simulation.shure_charger.simulator import ShureChargerSimulator

__all__ = ["ShureChargerSimulator"]
