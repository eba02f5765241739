"""Forms of the pages. They only parse input; the services decide what is valid to save."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms.utils import pretty_name

from micboard.converters import is_id
from micboard.devices import Protocol
from micboard.integrations.kinds import EVENT_LABELS
from micboard.integrations.models import Output
from micboard.models import (
    Alert,
    Location,
    MonitoringGroup,
    Performer,
    PerformerAssignment,
    Priority,
    WirelessChassis,
    WirelessUnit,
)
from micboard.services.performer_assignment import ALERT_FLAGS

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from micboard.integrations.types import Driver

_M = TypeVar("_M", bound=Model)
ALERT_SWITCHES = ("alert_enabled", *ALERT_FLAGS)
DEVICE_LIST_MAX_BYTES = 1024 * 1024


def show_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the fields it names, the rest above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


def unit_label(unit: WirelessUnit) -> str:
    """Name a unit in a picker by its slot, and its own name when it has one."""
    return f"{unit.slot or unit.pk} · {unit.name}" if unit.name else str(unit)


class UnitChoiceField(forms.ModelChoiceField[WirelessUnit]):
    def label_from_instance(self, obj: WirelessUnit) -> str:
        return unit_label(obj)


class IdsChoiceField(forms.ModelMultipleChoiceField[_M]):
    """Pick several objects by id; a number no id column can hold is invalid, not a crash.

    (SQLite raises OverflowError for an `__in` lookup with an integer beyond 64 bits.)
    """

    def clean(self, value: Any) -> QuerySet[_M]:
        for pk in value if isinstance(value, list | tuple) else ():
            if not is_id(str(pk)):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super().clean(value)


class UnitMultipleChoiceField(IdsChoiceField[WirelessUnit]):
    def label_from_instance(self, obj: WirelessUnit) -> str:
        return unit_label(obj)


class PerformerForm(forms.Form):
    name = forms.CharField(max_length=200)
    title = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=50, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # A plain file field: the service checks the image and names what is wrong with it.
    photo = forms.FileField(
        required=False,
        help_text="JPEG, PNG, WebP or GIF, up to 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    @classmethod
    def for_performer(cls, performer: Performer) -> PerformerForm:
        fields = ("name", "title", "email", "phone", "notes")
        return cls(initial={name: getattr(performer, name) for name in fields})

    def changes(self) -> dict[str, Any]:
        """Return the cleaned values as service keyword arguments."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "photo"}
        if self.cleaned_data.get("photo"):
            data["photo_file"] = self.cleaned_data["photo"]
        return data


class AssignmentSettingsForm(forms.Form):
    """Priority, notes and alert flags: what can be changed on an existing assignment."""

    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    alert_enabled = forms.BooleanField(required=False, initial=True, label="Alerts on")
    alert_on_battery_low = forms.BooleanField(required=False, initial=True, label="Battery low")
    alert_on_signal_loss = forms.BooleanField(required=False, initial=True, label="Signal loss")
    alert_on_audio_low = forms.BooleanField(required=False, initial=False, label="Audio low")
    alert_on_device_offline = forms.BooleanField(
        required=False, initial=True, label="Device offline"
    )

    def settings(self) -> dict[str, Any]:
        names = ("priority", "notes", *ALERT_SWITCHES)
        return {name: self.cleaned_data[name] for name in names}


def settings_prefix(assignment: PerformerAssignment) -> str:
    """Name the inline settings form of an assignment's row, unique on its page."""
    return f"a{assignment.pk}"


@dataclass(frozen=True, slots=True)
class Control:
    """One control of a printed settings form: its field, label, value and errors."""

    name: str  # with the form's prefix, e.g. `a17-priority`
    label: str
    value: Any
    errors: list[str]

    @property
    def id(self) -> str:
        return f"id_{self.name}"


@dataclass(frozen=True, slots=True)
class PriorityOption:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True, slots=True)
class SettingsControls:
    """The inline settings form of one assignment row, as plain values to print.

    A page prints a row per assignment: rendering each of their controls as a Django
    widget cost over a millisecond per row. The form still parses what is posted.
    """

    priority: Control
    priority_options: list[PriorityOption]
    notes: Control
    switches: list[Control]  # alerts on, then one per condition
    problems: list[str]  # errors that belong to no one field

    @classmethod
    def of_assignment(cls, assignment: PerformerAssignment) -> SettingsControls:
        """Print the assignment's saved settings."""
        prefix = settings_prefix(assignment)
        return cls._build(prefix, lambda name: getattr(assignment, name), {}, [])

    @classmethod
    def of_form(cls, form: AssignmentSettingsForm) -> SettingsControls:
        """Print a posted form again, with what was typed and what was wrong with it."""
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        problems = [str(problem) for problem in form.non_field_errors()]
        return cls._build(form.prefix or "", lambda name: form[name].value(), errors, problems)

    @classmethod
    def _build(
        cls,
        prefix: str,
        value_of: Callable[[str], Any],
        errors: dict[str, list[str]],
        problems: list[str],
    ) -> SettingsControls:
        fields = AssignmentSettingsForm.base_fields

        def control(name: str) -> Control:
            label = str(fields[name].label or pretty_name(name))
            return Control(f"{prefix}-{name}", label, value_of(name), errors.get(name, []))

        priority = control("priority")
        return cls(
            priority=priority,
            priority_options=[
                PriorityOption(value, str(label), value == priority.value)
                for value, label in Priority.choices
            ],
            notes=control("notes"),
            switches=[control(name) for name in ALERT_SWITCHES],
            problems=problems,
        )


class PickerChoicesMixin:
    """Offer in the performer and unit pickers only what the user may see."""

    fields: dict[str, forms.Field]
    units_field: str

    def __init__(
        self,
        *args: Any,
        performers: QuerySet[Performer],
        units: QuerySet[WirelessUnit],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["performer"].queryset = performers  # type: ignore[attr-defined]
        self.fields[self.units_field].queryset = units  # type: ignore[attr-defined]


class AssignmentForm(PickerChoicesMixin, AssignmentSettingsForm):
    """A new assignment: a performer and a unit picked from what the user may see."""

    performer = forms.ModelChoiceField(queryset=Performer.objects.none())
    wireless_unit = UnitChoiceField(queryset=WirelessUnit.objects.none(), label="Unit")
    field_order = ["performer", "wireless_unit"]

    units_field = "wireless_unit"


class BulkAssignForm(PickerChoicesMixin, forms.Form):
    """One performer onto several units at once (a shared mic pool, spares)."""

    performer = forms.ModelChoiceField(queryset=Performer.objects.none())
    wireless_units = UnitMultipleChoiceField(
        queryset=WirelessUnit.objects.none(), label="Units", widget=forms.CheckboxSelectMultiple
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)

    units_field = "wireless_units"


class ManualUnitForm(forms.Form):
    """An unnetworked device placed on a wall by hand, with the performer wearing it."""

    slot = forms.CharField(max_length=20, help_text="Its label on the wall, e.g. IEM07.")
    kind = forms.ChoiceField(choices=WirelessUnit.Kind.choices, initial=WirelessUnit.Kind.IEM)
    performer = forms.ModelChoiceField(queryset=Performer.objects.none())

    def __init__(self, *args: Any, performers: QuerySet[Performer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["performer"].queryset = performers  # type: ignore[attr-defined]


class GroupNumberForm(forms.Form):
    number = forms.TypedChoiceField(
        choices=[("", "None"), *((n, str(n)) for n in range(1, 10))],
        coerce=int,
        empty_value=None,
        required=False,
        label="Wall key",
        help_text="Press this key on any wall to open this one; the same for everyone.",
    )


class KioskLinkForm(forms.Form):
    label = forms.CharField(max_length=200, help_text="Where the screen is, e.g. FOH left.")


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Who uses it, e.g. Companion in FOH.")
    groups: IdsChoiceField[MonitoringGroup] = IdsChoiceField(
        queryset=MonitoringGroup.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="The token reads these groups' walls, units, performers and alerts.",
    )

    def __init__(self, *args: Any, groups: QuerySet[MonitoringGroup], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = groups  # type: ignore[attr-defined]


class GroupMembersForm(forms.Form):
    users: IdsChoiceField[User] = IdsChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Members",
    )

    def __init__(self, *args: Any, users: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = users  # type: ignore[attr-defined]


class ShowEndForm(forms.Form):
    show_ends_at = forms.DateTimeField(
        required=False,
        label="The show ends at",
        help_text="Tiles say when a battery will not last until then. Leave empty for none.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class AlertFilterForm(forms.Form):
    STATE_CHOICES = [
        ("", "Any state"),
        ("open", "Open"),
        ("unacknowledged", "Not acknowledged"),
        ("acknowledged", "Acknowledged"),
        ("resolved", "Resolved"),
    ]
    group = forms.ModelChoiceField(
        queryset=MonitoringGroup.objects.none(), required=False, empty_label="All groups"
    )
    kind = forms.ChoiceField(choices=[("", "Any condition"), *Alert.Kind.choices], required=False)
    severity = forms.ChoiceField(
        choices=[("", "Any severity"), *Alert.Severity.choices], required=False
    )
    state = forms.ChoiceField(choices=STATE_CHOICES, required=False)

    def __init__(self, *args: Any, groups: QuerySet[MonitoringGroup], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups  # type: ignore[attr-defined]


class PerformerImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: name, title, email, phone, notes. The first row names the columns.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class PerformerImportConfirmForm(forms.Form):
    """The previewed file, sent back unchanged so nothing is saved before it is confirmed."""

    content = forms.CharField(widget=forms.HiddenInput, strip=False)
    # Asked only when some rows name performers who exist (a re-imported export).
    on_existing = forms.ChoiceField(
        label="Performers who exist already",
        choices=[
            ("update", "Update them with the file's values"),
            ("skip", "Skip them, keep them as they are"),
        ],
        widget=forms.RadioSelect,
        required=False,
    )


PROBE_FAMILIES = [
    (Protocol.SHURE_TCP.value, "Shure ULX-D, QLX-D, Axient Digital, SLX-D, PSM1000 (TCP 2202)"),
    (Protocol.SENNHEISER_SSC.value, "Sennheiser EW-DX (SSCv2, HTTPS)"),
    (Protocol.SENNHEISER_EW.value, "Sennheiser evolution wireless G3/G4 (UDP 53212)"),
    (Protocol.SENNHEISER_SSC1.value, "Sennheiser Digital 6000 (SSCv1, UDP 45)"),
    (Protocol.SHURE_API.value, "A device behind a Shure System API server"),
]
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-:\[\]]{0,252}$")


class DeviceProbeForm(forms.Form):
    protocol = forms.ChoiceField(label="Family", choices=PROBE_FAMILIES)
    host = forms.CharField(
        label="Address",
        max_length=255,
        help_text="The receiver's IP address or host name, as set on its network menu.",
    )
    port = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=65535,
        help_text="Empty: the family's port (2202, 443, 53212, 45, or the System API's 10000).",
    )
    serial = forms.CharField(
        label="Device id",
        required=False,
        max_length=100,
        help_text="System API only: the device's id or serial number on that server.",
    )

    def clean_host(self) -> str:
        host: str = self.cleaned_data["host"].strip()
        if not _HOST.match(host):
            raise ValidationError("Give an address such as 192.168.1.21 or rx1.local.")
        return host

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("protocol") == Protocol.SHURE_API.value and not data.get("serial"):
            self.add_error("serial", "A System API server fronts many devices: name one.")
        return data


class DeviceOptionsForm(forms.ModelForm[WirelessChassis]):
    """What an admin sets on a receiver: its name, where it is, how fast it meters."""

    class Meta:
        model = WirelessChassis
        fields = ("name", "location", "meter_interval_ms")
        labels = {"meter_interval_ms": "Meter interval (ms)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.all()  # type: ignore[attr-defined]


class DeviceAddForm(DeviceOptionsForm):
    """Confirm a probed receiver: the probe's result rides along signed (dashboard/devices.py)."""

    probed = forms.CharField(widget=forms.HiddenInput, max_length=20000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False


class DeviceImportForm(forms.Form):
    file = forms.FileField(
        label="Device list (JSON)",
        help_text="The file Export writes, or `simulate_devices --write`; at most 1 MiB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > DEVICE_LIST_MAX_BYTES:
            raise ValidationError("The file is larger than 1 MiB; no device list is that long.")
        return upload


# Outputs: one form per driver, from the driver's own config form and secret fields.
CONFIG_PREFIX, SECRET_PREFIX = "config_", "secret_"


def output_form_class(driver: type[Driver], *, editing: bool) -> type[forms.Form]:
    """Return the add or edit form of an output of this driver's kind.

    A secret is never filled in again: when editing, blank keeps the stored one.
    """
    fields: dict[str, forms.Field] = {
        "name": forms.CharField(max_length=200, help_text="E.g. Companion FOH, lighting desk."),
        "events": forms.MultipleChoiceField(
            choices=list(EVENT_LABELS.items()),
            widget=forms.CheckboxSelectMultiple,
            help_text="What this output is told.",
        ),
    }
    for name, field in driver.config_form.base_fields.items():
        fields[CONFIG_PREFIX + name] = copy.deepcopy(field)
    keep = "Stored encrypted, never shown again; leave blank to keep the stored one."
    for name, required in driver.secret_fields.items():
        fields[SECRET_PREFIX + name] = forms.CharField(
            label=pretty_name(name),
            required=required and not editing,
            max_length=500,
            strip=False,
            widget=forms.PasswordInput(render_value=False),
            help_text=keep if editing else "Stored encrypted, never shown again.",
        )
    return type(f"{driver.__name__}OutputForm", (forms.Form,), fields)


def output_values(form: forms.Form) -> dict[str, Any]:
    """Split a valid output form into the service's arguments."""
    data = form.cleaned_data
    return {
        "name": data["name"],
        "events": data["events"],
        "config": {
            k[len(CONFIG_PREFIX) :]: v for k, v in data.items() if k.startswith(CONFIG_PREFIX)
        },
        "secrets": {
            k[len(SECRET_PREFIX) :]: v for k, v in data.items() if k.startswith(SECRET_PREFIX)
        },
    }


def output_initial(output: Output) -> dict[str, Any]:
    initial = {"name": output.name, "events": list(output.events)}
    initial.update({CONFIG_PREFIX + k: v for k, v in output.config.items()})
    return initial


def show_output_errors(form: forms.Form, error: ValidationError) -> None:
    """Put OutputService's errors on the form's fields (a config or secret field is
    named without its prefix there)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        for field in (name, CONFIG_PREFIX + name, SECRET_PREFIX + name):
            if field in form.fields:
                form.add_error(field, messages)
                break
        else:
            form.add_error(None, messages)
