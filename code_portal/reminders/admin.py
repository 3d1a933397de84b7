"""Django admin: reminder settings (staff admins edit, reviewers look) and a read-only log.

The reminders app is not in ``code_portal.models.STAFF_ADMIN_APPS`` (a shared file), so these
admin classes grant the Code staff roles their rights themselves.
"""

from __future__ import annotations

from django.contrib import admin

from code_portal.audit import audit_record
from code_portal.models import StaffRole
from code_portal.reminders.models import Notification, ReminderConfig, ReminderPreference


def _staff_admin(request) -> bool:
    user = request.user
    return user.is_active and (user.is_superuser or user.staff_role == StaffRole.ADMIN)


def _staff(request) -> bool:
    user = request.user
    return _staff_admin(request) or (user.is_active and user.staff_role == StaffRole.REVIEWER)


class StaffModuleMixin:
    def has_module_permission(self, request):
        return _staff(request)

    def has_view_permission(self, request, obj=None):
        return _staff(request)


@admin.register(ReminderConfig)
class ReminderConfigAdmin(StaffModuleMixin, admin.ModelAdmin):
    list_display = ["kind", "enabled", "offsets", "repeat_every_days", "updated_at"]
    list_editable = ["enabled"]
    fields = ["kind", "enabled", "offsets", "repeat_every_days"]

    def get_readonly_fields(self, request, obj=None):
        return ["kind"] if obj is not None else []

    def has_add_permission(self, request):
        return _staff_admin(request)

    def has_change_permission(self, request, obj=None):
        return _staff_admin(request)

    def has_delete_permission(self, request, obj=None):
        return _staff_admin(request)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="reminders.settings_changed", obj=obj,
                     changes={name: {"to": str(form.cleaned_data.get(name))}
                              for name in form.changed_data})


@admin.register(Notification)
class NotificationAdmin(StaffModuleMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "signatory", "status", "attempts", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["key", "recipients"]
    list_select_related = ["signatory"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Notification._meta.fields]


@admin.register(ReminderPreference)
class ReminderPreferenceAdmin(StaffModuleMixin, admin.ModelAdmin):
    list_display = ["user", "optional_reminders", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
