"""A simulated Sennheiser Digital 6000 EM 6000 speaking SSCv1 (JSON over UDP)."""

from realtime.simulation.sennheiser_ssc1.simulator import SennheiserSsc1Simulator

__all__ = ["SennheiserSsc1Simulator"]
