"""Routes of the pages; `micboard/urls.py` includes them at the site root."""

from __future__ import annotations

from django.urls import path

from dashboard.views import (
    alerts,
    api_tokens,
    assignments,
    chargers,
    devices,
    groups,
    kiosk,
    performers,
    timeline,
    units,
    walls,
)

urlpatterns = [
    path("", walls.home, name="home"),
    path("walls/<id:group_id>/", walls.wall, name="wall"),
    path("walls/<id:group_id>/tiles/", walls.wall_tiles, name="wall-tiles"),
    path("walls/<id:group_id>/markers/", timeline.marker_add, name="marker-add"),
    path("groups/<id:group_id>/timeline/", timeline.group_timeline, name="group-timeline"),
    path(
        "groups/<id:group_id>/timeline/data/",
        timeline.group_timeline_data,
        name="group-timeline-data",
    ),
    path("groups/<id:group_id>/report/", timeline.group_report, name="group-report"),
    path("units/<id:unit_id>/timeline/", timeline.unit_timeline, name="unit-timeline"),
    path(
        "units/<id:unit_id>/timeline/data/", timeline.unit_timeline_data, name="unit-timeline-data"
    ),
    path("kiosk/<str:token>/", kiosk.kiosk, name="kiosk"),
    path("kiosk/<str:token>/tiles/", kiosk.kiosk_tiles, name="kiosk-tiles"),
    path("kiosk/<str:token>/photos/<id:performer_id>/", kiosk.kiosk_photo, name="kiosk-photo"),
    path("units/<id:unit_id>/", units.unit_detail, name="unit-detail"),
    path("performers/", performers.performer_list, name="performers"),
    path("performers/new/", performers.performer_create, name="performer-create"),
    path("performers/import/", performers.performer_import, name="performer-import"),
    path("performers/export.csv", performers.performer_export, name="performer-export"),
    path("performers/<id:performer_id>/edit/", performers.performer_edit, name="performer-edit"),
    path(
        "performers/<id:performer_id>/active/",
        performers.performer_set_active,
        name="performer-set-active",
    ),
    path(
        "performers/<id:performer_id>/delete/",
        performers.performer_delete,
        name="performer-delete",
    ),
    path(
        "performers/<id:performer_id>/photo/",
        performers.performer_photo,
        name="performer-photo",
    ),
    path("assignments/", assignments.assignment_index, name="assignments"),
    path(
        "groups/<id:group_id>/assignments/",
        assignments.group_assignments,
        name="group-assignments",
    ),
    path(
        "groups/<id:group_id>/assignments/new/",
        assignments.assignment_create,
        name="assignment-create",
    ),
    path(
        "groups/<id:group_id>/assignments/bulk/",
        assignments.assignment_bulk,
        name="assignment-bulk",
    ),
    path(
        "groups/<id:group_id>/assignments/performers/",
        assignments.assignment_performers,
        name="assignment-performers",
    ),
    path(
        "assignments/<id:assignment_id>/",
        assignments.assignment_update,
        name="assignment-update",
    ),
    path(
        "assignments/<id:assignment_id>/active/",
        assignments.assignment_set_active,
        name="assignment-set-active",
    ),
    path(
        "assignments/<id:assignment_id>/delete/",
        assignments.assignment_delete,
        name="assignment-delete",
    ),
    path("groups/", groups.group_list, name="groups"),
    path("groups/<id:group_id>/", groups.group_detail, name="group-detail"),
    path("groups/<id:group_id>/members/", groups.group_members, name="group-members"),
    path("groups/<id:group_id>/number/", groups.group_number, name="group-number"),
    path("groups/<id:group_id>/tile-order/", groups.group_tile_order, name="group-tile-order"),
    path("groups/<id:group_id>/kiosk-links/", groups.kiosk_link_create, name="kiosk-link-create"),
    path("kiosk-links/<id:link_id>/revoke/", groups.kiosk_link_revoke, name="kiosk-link-revoke"),
    path("api-tokens/", api_tokens.api_token_list, name="api-tokens"),
    path("api-tokens/new/", api_tokens.api_token_create, name="api-token-create"),
    path("api-tokens/<id:token_id>/revoke/", api_tokens.api_token_revoke, name="api-token-revoke"),
    path("chargers/", chargers.charger_list, name="chargers"),
    path("chargers/bays/", chargers.charger_bays, name="charger-bays"),
    path("devices/", devices.device_list, name="devices"),
    path("devices/table/", devices.device_table, name="device-table"),
    path("devices/discovered/", devices.device_discovered, name="device-discovered"),
    path("devices/discovered/add/", devices.device_add_found, name="device-add-found"),
    path("devices/discovered/ignore/", devices.device_ignore, name="device-ignore"),
    path("devices/probe/", devices.device_probe, name="device-probe"),
    path("devices/add/", devices.device_add, name="device-add"),
    path("devices/export.json", devices.device_export, name="device-export"),
    path("devices/import/", devices.device_import, name="device-import"),
    path("devices/<id:chassis_id>/edit/", devices.device_edit, name="device-edit"),
    path("devices/<id:chassis_id>/delete/", devices.device_delete, name="device-delete"),
    path("alerts/", alerts.alert_list, name="alerts"),
    path("alerts/<id:alert_id>/acknowledge/", alerts.alert_acknowledge, name="alert-acknowledge"),
]
