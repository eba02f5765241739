"""Forms of the roster pages (kept apart from forms.py: a page family of its own)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from micboard.models import MonitoringGroup, WirelessUnit
from micboard.rosters.models import StatusFilter

RANGE = re.compile(r"^(?P<first>[^-\s]+)\s*[-–]\s*(?P<last>[^-\s]+)$")  # noqa: RUF001 (the dash people type)


class PcoConnectForm(forms.Form):
    app_id = forms.CharField(
        max_length=200,
        label="Application ID",
        help_text="From api.planningcenteronline.com/oauth/applications → Personal Access Tokens.",
    )
    # Write-only: never rendered back, not even after an error.
    secret = forms.CharField(
        max_length=500, widget=forms.PasswordInput(render_value=False), label="Secret"
    )


class RosterScheduleForm(forms.Form):
    service_type_id = forms.ChoiceField(label="Service type", required=False)
    group = forms.ModelChoiceField(
        queryset=MonitoringGroup.objects.none(),
        required=False,
        label="Sync its next plan into",
        empty_label="(no scheduled sync)",
    )
    status_filter = forms.ChoiceField(choices=StatusFilter.choices, label="Who is placed")

    def __init__(
        self,
        *args: Any,
        groups: QuerySet[MonitoringGroup],
        service_types: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups  # type: ignore[attr-defined]
        choices = [("", "(none)"), *service_types]
        self.fields["service_type_id"].choices = choices  # type: ignore[attr-defined]


class PoolForm(forms.Form):
    position_name = forms.CharField(
        max_length=200, label="Position", help_text="As the roster spells it, e.g. Vocals."
    )
    units = forms.CharField(
        max_length=2000,
        label="Units, in order",
        help_text="Slots separated by commas; a range takes every slot between: HH01-HH06, BP01.",
    )

    def __init__(self, *args: Any, units: QuerySet[WirelessUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = sorted(units, key=lambda unit: (unit.slot, unit.pk))

    def clean_units(self) -> list[WirelessUnit]:
        picked: list[WirelessUnit] = []
        unknown: list[str] = []
        for part in filter(None, (p.strip() for p in self.cleaned_data["units"].split(","))):
            found = self._range(part)
            if found:
                picked += found
            else:
                unknown.append(part)
        if unknown:
            raise ValidationError(f"No unit has the slot {', '.join(unknown)}.")
        return list(dict.fromkeys(picked))

    def _range(self, part: str) -> list[WirelessUnit]:
        slots = [unit.slot.casefold() for unit in self.candidates]
        match = RANGE.match(part)
        first, last = (match["first"], match["last"]) if match else (part, part)
        if first.casefold() not in slots or last.casefold() not in slots:
            return []
        start, end = slots.index(first.casefold()), slots.index(last.casefold())
        return self.candidates[min(start, end) : max(start, end) + 1]


class RosterSyncForm(forms.Form):
    service_type_id = forms.RegexField(regex=r"^\d{1,20}$", label="Service type")
    plan_id = forms.RegexField(regex=r"^\d{1,20}$", label="Plan")
    status_filter = forms.ChoiceField(choices=StatusFilter.choices, label="Who is placed")
    fingerprint = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)


class RosterCsvForm(forms.Form):
    file = forms.FileField(
        label="Roster CSV", help_text="Columns: performer, position, unit, start time."
    )


class RosterCsvApplyForm(forms.Form):
    content = forms.CharField(widget=forms.HiddenInput, max_length=1024 * 1024, strip=False)
    name = forms.CharField(widget=forms.HiddenInput, max_length=200)
    fingerprint = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
