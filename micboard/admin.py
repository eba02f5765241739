"""Django admin for every Micboard model: admins only, tenant-scoped, writes via services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.db.models import Field, Model, QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from micboard import access
from micboard.converters import is_id
from micboard.models import (
    Alert,
    Campus,
    Charger,
    DeviceAssignment,
    KioskLink,
    Location,
    MonitoringGroup,
    Organization,
    Performer,
    PerformerAssignment,
    RFChannel,
    UserProfile,
    WirelessChassis,
    WirelessUnit,
)
from micboard.services import KioskService, PerformerAssignmentService, PerformerService
from micboard.services.inventory import InventoryService
from micboard.tenancy import current_tenant, multi_tenant_enabled

PERFORMER_FIELDS = ("name", "title", "email", "phone", "notes")
ASSIGNMENT_FIELDS = (
    "priority",
    "alert_enabled",
    "notes",
    "monitoring_group",
    "alert_on_battery_low",
    "alert_on_signal_loss",
    "alert_on_audio_low",
    "alert_on_device_offline",
)


class MicboardAdminMixin:
    """Open the admin to Micboard admins (and superusers) only; techs use the pages."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return access.is_admin(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # A platform superuser of no organization has nowhere to create tenant rows.
        return access.is_admin(request.user) and _has_an_organization_to_write_in()

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return access.is_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return access.is_admin(request.user)

    # Users and campuses have no tenant manager: offer only those of the request's tenant.
    def formfield_for_foreignkey(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.related_model is Campus:
            kwargs["queryset"] = in_tenant(Campus.objects.all(), "organization_id")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.related_model is get_user_model():
            users = get_user_model().objects.all()
            kwargs["queryset"] = in_tenant(users, "profile__organization_id")
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


def in_tenant(queryset: QuerySet[Any], organization_field: str) -> QuerySet[Any]:
    """Narrow rows that no tenant manager scopes to the tenant of the running request."""
    if not multi_tenant_enabled():
        return queryset
    context = current_tenant()
    if context.unrestricted:
        return queryset
    if context.organization_id is None:
        return queryset.none()
    return queryset.filter(**{organization_field: context.organization_id})


class TenantHistoryAdmin(MicboardAdminMixin, SimpleHistoryAdmin):
    """History pages show the request's tenant only: another tenant's id is a 404, as a
    missing one (simple_history reads its history tables, which no tenant manager scopes)."""

    def get_history_queryset(
        self, request: HttpRequest, history_manager: Any, pk_name: str, object_id: Any
    ) -> QuerySet[Any]:
        records = super().get_history_queryset(request, history_manager, pk_name, object_id)
        return in_tenant(records, "organization_id")

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
        records = in_tenant(history.all(), "organization_id")
        pk_name = self.model._meta.pk.attname
        if not is_id(unquote(object_id)) or not is_id(version_id):
            raise Http404("Not found.")  # not ids at all: a query would fail, not miss
        if not records.filter(**{pk_name: unquote(object_id), "history_id": version_id}).exists():
            raise Http404("Not found.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class InventoryAdmin(MicboardAdminMixin, admin.ModelAdmin[Any]):
    """Saves and deletes through InventoryService."""

    def save_model(
        self, request: HttpRequest, obj: Model, form: ModelForm[Any], change: bool
    ) -> None:
        InventoryService.save_row(obj, by_user=request.user)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        InventoryService.delete_row(obj, by_user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for row in queryset:
            InventoryService.delete_row(row, by_user=request.user)


@admin.register(Location)
class LocationAdmin(InventoryAdmin):
    list_display = ("name", "building", "room", "campus")
    search_fields = ("name", "building", "room")
    list_filter = (("campus", admin.RelatedOnlyFieldListFilter),)  # campuses of this tenant
    exclude = ("organization",)


class RFChannelInline(admin.TabularInline[Any, Any]):
    model = RFChannel
    extra = 0
    exclude = ("organization",)


@admin.register(WirelessChassis)
class WirelessChassisAdmin(InventoryAdmin):
    list_display = ("name", "manufacturer", "model", "protocol", "host", "port", "is_online")
    search_fields = ("name", "model", "host", "serial")
    list_filter = ("protocol", "manufacturer", "is_online", "location")
    readonly_fields = ("is_online", "last_seen")
    exclude = ("organization",)


@admin.register(Charger)
class ChargerAdmin(InventoryAdmin):
    list_display = ("name", "model", "host", "port", "location")
    search_fields = ("name", "model", "host")
    exclude = ("organization",)


@admin.register(RFChannel)
class RFChannelAdmin(InventoryAdmin):
    list_display = ("chassis", "number", "name", "frequency_khz")
    search_fields = ("name", "chassis__name")
    list_filter = ("chassis",)
    exclude = ("organization",)


@admin.register(WirelessUnit)
class WirelessUnitAdmin(InventoryAdmin):
    list_display = ("slot", "name", "kind", "base_chassis", "status", "battery_bars", "is_online")
    search_fields = ("slot", "name", "base_chassis__name")
    list_filter = ("kind", "status", "is_online", "location")
    fields = ("base_chassis", "rf_channel", "location", "slot", "name", "kind")
    list_select_related = ("base_chassis",)


@admin.register(MonitoringGroup)
class MonitoringGroupAdmin(InventoryAdmin):
    list_display = ("name", "is_active", "location")
    search_fields = ("name", "description")
    list_filter = ("is_active", "location")
    filter_horizontal = ("users",)
    exclude = ("organization",)

    def save_related(
        self, request: HttpRequest, form: ModelForm[Any], formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        InventoryService.save_row(form.instance, by_user=request.user)  # announce new members


@admin.register(Performer)
class PerformerAdmin(TenantHistoryAdmin):
    list_display = ("name", "title", "email", "is_active", "updated_at")
    search_fields = ("name", "title", "email", "phone")
    list_filter = ("is_active",)
    fields = (*PERFORMER_FIELDS, "photo")
    actions = ("deactivate", "reactivate")

    def save_model(
        self, request: HttpRequest, obj: Performer, form: ModelForm, change: bool
    ) -> None:
        values = {name: form.cleaned_data[name] for name in PERFORMER_FIELDS}
        photo = form.cleaned_data.get("photo") if "photo" in form.changed_data else None
        if change:
            saved = PerformerService.update_performer(
                Performer.objects.get(pk=obj.pk), by_user=request.user, photo_file=photo, **values
            )
        else:
            saved = PerformerService.create_performer(
                photo_file=photo, by_user=request.user, **values
            )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Performer) -> None:
        PerformerService.delete_performer(obj, by_user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Performer]) -> None:
        for performer in queryset:
            PerformerService.delete_performer(performer, by_user=request.user)

    @admin.action(description="Deactivate the selected performers")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Performer]) -> None:
        for performer in queryset:
            PerformerService.deactivate_performer(performer, by_user=request.user)

    @admin.action(description="Reactivate the selected performers")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Performer]) -> None:
        for performer in queryset:
            PerformerService.reactivate_performer(performer, by_user=request.user)


@admin.register(PerformerAssignment)
class PerformerAssignmentAdmin(TenantHistoryAdmin):
    list_display = ("performer", "wireless_unit", "monitoring_group", "priority", "is_active")
    search_fields = ("performer__name", "wireless_unit__slot", "monitoring_group__name")
    list_filter = ("priority", "is_active", "alert_enabled", "monitoring_group")
    list_select_related = ("performer", "wireless_unit", "monitoring_group")
    fields = ("performer", "wireless_unit", *ASSIGNMENT_FIELDS)
    actions = ("deactivate", "reactivate")

    def save_model(
        self,
        request: HttpRequest,
        obj: PerformerAssignment,
        form: ModelForm[Any],
        change: bool,
    ) -> None:
        values = {name: form.cleaned_data[name] for name in ASSIGNMENT_FIELDS}
        if change:
            current = PerformerAssignment.objects.get(pk=obj.pk)
            PerformerAssignmentService.update_assignment(current, by_user=request.user, **values)
            return
        saved = PerformerAssignmentService.create_assignment(
            performer=form.cleaned_data["performer"],
            wireless_unit=form.cleaned_data["wireless_unit"],
            by_user=request.user,
            **values,
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: PerformerAssignment) -> None:
        PerformerAssignmentService.delete_assignment(obj, by_user=request.user)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[PerformerAssignment]
    ) -> None:
        for assignment in queryset:
            PerformerAssignmentService.delete_assignment(assignment, by_user=request.user)

    @admin.action(description="Deactivate the selected assignments")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[PerformerAssignment]) -> None:
        for assignment in queryset:
            PerformerAssignmentService.deactivate_assignment(assignment, by_user=request.user)

    @admin.action(description="Reactivate the selected assignments")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[PerformerAssignment]) -> None:
        for assignment in queryset:
            PerformerAssignmentService.reactivate_assignment(assignment, by_user=request.user)


@admin.register(Alert)
class AlertAdmin(MicboardAdminMixin, admin.ModelAdmin[Any]):
    """Alerts are raised by the live path; here they are read (and acknowledged on the pages)."""

    list_display = (
        "created_at",
        "kind",
        "severity",
        "wireless_unit",
        "acknowledged_at",
        "resolved_at",
    )
    list_filter = ("kind", "severity", "monitoring_group")
    search_fields = ("message", "wireless_unit__slot")
    list_select_related = ("wireless_unit",)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(KioskLink)
class KioskLinkAdmin(MicboardAdminMixin, admin.ModelAdmin[Any]):
    list_display = ("label", "monitoring_group", "created_at", "revoked_at")
    list_filter = ("monitoring_group",)
    search_fields = ("label",)
    fields = ("label", "monitoring_group")
    actions = ("revoke",)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: KioskLink, form: ModelForm, change: bool
    ) -> None:
        saved = KioskService.create_link(
            form.cleaned_data["monitoring_group"], form.cleaned_data["label"], by_user=request.user
        )
        obj.pk = saved.pk

    @admin.action(description="Revoke the selected kiosk links")
    def revoke(self, request: HttpRequest, queryset: QuerySet[KioskLink]) -> None:
        for link in queryset:
            KioskService.revoke_link(link, by_user=request.user)
        messages.success(request, "Revoked; open kiosks using these links are cut off.")


@admin.register(DeviceAssignment)
class DeviceAssignmentAdmin(MicboardAdminMixin, admin.ModelAdmin[Any]):
    """Legacy rows: shown for migration, not edited."""

    list_display = ("user", "channel", "alert_enabled", "created_at")
    search_fields = ("user__username", "channel__chassis__name")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class PlatformAdmin(admin.ModelAdmin[Any]):
    """Organizations, campuses and profiles: platform superusers only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_superuser(request)


def _has_an_organization_to_write_in() -> bool:
    return not multi_tenant_enabled() or current_tenant().organization_id is not None


def _is_superuser(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


@admin.register(Organization)
class OrganizationAdmin(PlatformAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")


@admin.register(Campus)
class CampusAdmin(PlatformAdmin):
    list_display = ("name", "organization")
    search_fields = ("name",)
    list_filter = ("organization",)


@admin.register(UserProfile)
class UserProfileAdmin(PlatformAdmin):
    list_display = ("user", "role", "organization")
    list_filter = ("role", "organization")
    search_fields = ("user__username",)
