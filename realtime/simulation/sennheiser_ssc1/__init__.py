"""A simulated Sennheiser SSCv1 receiver (EM 6000, or an EW-DX in legacy mode) on UDP."""

from realtime.simulation.sennheiser_ssc1.simulator import SennheiserSsc1Simulator

__all__ = ["SennheiserSsc1Simulator"]
