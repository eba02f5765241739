"""The only way to change Micboard's state: views, admin, poller and commands call these."""

from micboard.services.legacy import AssignmentService
from micboard.services.performer import PerformerService
from micboard.services.performer_assignment import PerformerAssignmentService

__all__ = ["AssignmentService", "PerformerAssignmentService", "PerformerService"]
