"""A simulated Sennheiser evolution wireless G4 receiver (UDP 53212 commands)."""

from realtime.simulation.sennheiser_ew.simulator import SennheiserEwSimulator

__all__ = ["SennheiserEwSimulator"]
