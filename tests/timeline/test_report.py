"""The show report: per performer, dropouts, battery, clips and alerts since the show
started, as a printable page and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from micboard.models import Alert, Performer, PerformerAssignment
from micboard.services import AlertService, PerformerAssignmentService, TimelineService
from micboard.timeline.models import UnitEvent
from tests.dashboard.conftest import build_show
from tests.timeline.test_timeline_pages import _record

pytestmark = pytest.mark.django_db


def _dropout(unit, started, seconds: float) -> None:
    UnitEvent.objects.create(
        unit=unit, lane="rf", kind="dropout", started_at=started,
        ended_at=started + timedelta(seconds=seconds),
    )  # fmt: skip


def _worn_since(moment, *assignments: PerformerAssignment) -> None:
    """Say the assignments were made at `moment` (the report reads who wore what from
    their history)."""
    for assignment in assignments:
        assignment.history.update(history_date=moment)


def _csv(client: Client, url: str, **query: str) -> dict[str, dict[str, str]]:
    answer = client.get(url, {**query, "format": "csv"})
    assert answer["Content-Type"].startswith("text/csv")
    return {row["performer"]: row for row in csv.DictReader(io.StringIO(answer.content.decode()))}


def test_the_report_counts_each_performers_dropouts_since_the_show_started():
    show = build_show()
    jane_unit, bob_unit = show.unit("A01"), show.unit("A02")
    now = timezone.now()
    _worn_since(now - timedelta(hours=1), show.jane_a01, show.bob_a02)
    _dropout(jane_unit, now - timedelta(minutes=50), 4.0)  # before the show: not counted
    TimelineService.add_marker(
        show.group_a, "Show start", at=now - timedelta(minutes=30), by_user=show.tech_a
    )
    _dropout(jane_unit, now - timedelta(minutes=20), 2.5)
    _dropout(jane_unit, now - timedelta(minutes=10), 1.5)
    _dropout(bob_unit, now - timedelta(minutes=5), 0.5)
    start = int((now - timedelta(minutes=30)).timestamp())
    _record(jane_unit.pk, start, 600, -60)  # 70 % (codec point of the pages' tests)
    AlertService.apply_conditions({jane_unit.pk: frozenset({"battery_low"})})
    alert = Alert.objects.get(wireless_unit=jane_unit)
    Alert.objects.filter(pk=alert.pk).update(created_at=now - timedelta(minutes=8))
    AlertService.acknowledge(Alert.objects.get(pk=alert.pk), by_user=show.tech_a)

    tech = Client()
    tech.force_login(show.tech_a)
    url = reverse("group-report", args=[show.group_a.pk])
    page = tech.get(url)
    assert page.status_code == 200
    rows = _csv(tech, url)
    jane = rows["Jane Smith"]
    assert (jane["dropouts"], jane["dropout_total_s"], jane["dropout_longest_s"]) == (
        "2",
        "4.0",
        "2.5",
    )
    assert jane["lowest_battery_percent"] == "70"
    assert jane["alerts"] == "1"
    assert 470 <= float(jane["slowest_acknowledgement_s"]) <= 490  # about 8 minutes
    assert rows["Bob Jones"]["dropouts"] == "1"
    assert "Carla Diaz" not in rows, "another group's performer"
    html = page.content.decode()
    assert 'data-dropouts="2" data-dropout-longest="2.5"' in html


def test_a_chosen_range_and_a_range_that_makes_no_sense():
    show = build_show()
    now = timezone.now()
    _worn_since(now - timedelta(hours=7), show.jane_a01)
    _dropout(show.unit("A01"), now - timedelta(hours=5), 3.0)
    tech = Client()
    tech.force_login(show.tech_a)
    url = reverse("group-report", args=[show.group_a.pk])
    since = timezone.localtime(now - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S")
    assert _csv(tech, url, start=since)["Jane Smith"]["dropouts"] == "1"
    assert _csv(tech, url)["Jane Smith"]["dropouts"] == "0"  # no marker: the last 3 hours
    assert tech.get(url, {"start": "yesterday"}).status_code == 400
    later = timezone.localtime(now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert tech.get(url, {"start": later, "end": since}).status_code == 400


def test_names_that_look_like_formulas_stay_text_in_the_csv():
    show = build_show()
    show.jane.name = "=HYPERLINK(1)"
    show.jane.save()
    tech = Client()
    tech.force_login(show.tech_a)
    rows = _csv(tech, reverse("group-report", args=[show.group_a.pk]))
    assert "'=HYPERLINK(1)" in rows


def test_a_pack_handed_over_mid_show_reports_who_wore_it_when():
    """Each wearer's row counts only what happened while they wore the pack."""
    show = build_show()
    unit = show.unit("A01")
    now = timezone.now()
    TimelineService.add_marker(
        show.group_a, "show start", at=now - timedelta(minutes=40), by_user=show.tech_a
    )
    _worn_since(now - timedelta(hours=1), show.jane_a01, show.bob_a02)
    handed_over = now - timedelta(minutes=20)
    PerformerAssignmentService.deactivate_assignment(show.jane_a01, by_user=show.admin)
    dana = Performer.objects.create(organization=show.group_a.organization, name="Dana Lee")
    dana_a01 = PerformerAssignmentService.create_assignment(
        dana, unit, show.group_a, by_user=show.admin
    )
    show.jane_a01.history.filter(is_active=False).update(history_date=handed_over)
    _worn_since(handed_over, dana_a01)
    _dropout(unit, now - timedelta(minutes=30), 2.0)  # Jane's
    _dropout(unit, now - timedelta(minutes=21), 3.0)  # Jane's too
    _dropout(unit, now - timedelta(minutes=10), 5.0)  # Dana's

    tech = Client()
    tech.force_login(show.tech_a)
    url = reverse("group-report", args=[show.group_a.pk])
    rows = _csv(tech, url)
    jane, dana_row = rows["Jane Smith"], rows["Dana Lee"]
    assert (jane["slot"], dana_row["slot"]) == ("A01", "A01")
    assert (jane["dropouts"], jane["dropout_total_s"]) == ("2", "5.0")
    assert (dana_row["dropouts"], dana_row["dropout_total_s"]) == ("1", "5.0")
    assert _moment(jane["worn_until"]) == _moment(dana_row["worn_from"])
    assert abs((_moment(jane["worn_until"]) - handed_over).total_seconds()) < 1
    assert abs((_moment(jane["worn_from"]) - (now - timedelta(minutes=40))).total_seconds()) < 1
    html = tech.get(url).content.decode()
    assert html.index("Jane Smith") < html.index("Dana Lee"), "in the order they wore it"
    worn = f'data-worn-until="{int(_moment(jane["worn_until"]).timestamp())}"'
    assert worn in html


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)
