"""Sennheiser EW-DX receivers (EM 2, EM 2 Dante, EM 4 Dante) over SSCv2: HTTPS REST + SSE.

The simulator lives in `simulator.py`; it is not imported here so the poller does not load
the test-certificate machinery it needs.
"""

from __future__ import annotations

from realtime.protocols.sennheiser_ssc.client import SennheiserSscClient, SscAuthError, SscError

__all__ = ["SennheiserSscClient", "SscAuthError", "SscError"]
