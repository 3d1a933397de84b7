from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from code_portal.models import AuditEvent, User


class NoWriteAdminMixin:
    """Rows that change only through the services (which audit each change and keep the rules):
    the Django admin shows them and never adds, changes or deletes them. Works on model admins
    and inlines alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "staff_role", "is_active", "date_joined"]
    list_filter = ["staff_role", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("full_name", "language")}),
        (_("Code staff"), {"fields": ("staff_role", "staff_countries")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",),
                             "fields": ("email", "password1", "password2")}),)


@admin.register(AuditEvent)
class AuditEventAdmin(NoWriteAdminMixin, admin.ModelAdmin):
    """Read-only: the audit trail is append-only for everyone, staff admins included."""

    list_display = ["occurred_at", "actor_label", "action", "object_repr", "from_state",
                    "to_state"]
    list_filter = ["action", "content_type"]
    search_fields = ["actor_label", "object_repr", "reason"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
