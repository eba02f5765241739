"""Where alerts go besides the walls: a log line, an email to the group's users, or more.

Notifiers are plain classes listed by dotted path in `settings.MICBOARD_ALERT_NOTIFIERS`
(by default: log and email). The poller calls them from its database thread, after the
alert is committed; a failing notifier is logged and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from micboard.models import Alert
from micboard.services.alerts import AlertChanges

logger = logging.getLogger(__name__)


class AlertNotifier(Protocol):
    def alert_raised(self, alert: Alert) -> None: ...

    def alert_resolved(self, alert: Alert) -> None: ...


class LogNotifier:
    """Write every alert and resolution to the `realtime.alerts` log."""

    log = logging.getLogger("realtime.alerts")

    def alert_raised(self, alert: Alert) -> None:
        self.log.warning("alert %s [%s] %s", alert.pk, alert.severity, alert.message)

    def alert_resolved(self, alert: Alert) -> None:
        self.log.info("alert %s resolved: %s", alert.pk, alert.message)


class EmailNotifier:
    """Email a raised alert to the active users of its monitoring group (Django's mail)."""

    def alert_raised(self, alert: Alert) -> None:
        recipients = _group_emails(alert)
        if recipients:
            subject = f"[Micboard] {alert.message}"
            body = f"{alert.message}\nSeverity: {alert.get_severity_display()}\n"
            send_mail(subject, body, None, recipients)

    def alert_resolved(self, alert: Alert) -> None:
        """Send nothing: a resolution shows on the wall and needs no one's action."""


def configured_notifiers() -> list[AlertNotifier]:
    return [import_string(path)() for path in settings.MICBOARD_ALERT_NOTIFIERS]


def notify(changes: AlertChanges, notifiers: Sequence[AlertNotifier]) -> None:
    for notifier in notifiers:
        for alert in changes.raised:
            _call(notifier.alert_raised, alert)
        for alert in changes.resolved:
            _call(notifier.alert_resolved, alert)


def _call(method: Callable[[Alert], None], alert: Alert) -> None:
    try:
        method(alert)
    except Exception:
        logger.exception("notifier %r failed for alert %s", method, alert.pk)


def _group_emails(alert: Alert) -> list[str]:
    if alert.monitoring_group_id is None:
        return []
    users = alert.monitoring_group.users.filter(is_active=True).exclude(email="")  # type: ignore[union-attr]
    return sorted(set(users.values_list("email", flat=True)))
