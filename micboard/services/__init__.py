"""The only way to change Micboard's state: views, admin, poller and commands call these."""

from micboard.services.alerts import AlertService
from micboard.services.api_tokens import ApiTokenService
from micboard.services.groups import GroupService
from micboard.services.kiosk import KioskService
from micboard.services.legacy import AssignmentService
from micboard.services.mic_check import MicCheckService
from micboard.services.outputs import OutputService
from micboard.services.performer import PerformerService
from micboard.services.performer_assignment import PerformerAssignmentService
from micboard.services.rosters import RosterService
from micboard.services.shared_mics import SharedMicService
from micboard.services.telemetry import TelemetryService
from micboard.services.timeline import TimelineService

__all__ = [
    "AlertService",
    "ApiTokenService",
    "AssignmentService",
    "GroupService",
    "KioskService",
    "MicCheckService",
    "OutputService",
    "PerformerAssignmentService",
    "PerformerService",
    "RosterService",
    "SharedMicService",
    "TelemetryService",
    "TimelineService",
]
