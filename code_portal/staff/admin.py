"""Django admin of the staff app: export jobs, read-only (they are written by the services)."""

from django.contrib import admin

from code_portal.staff.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "requested_by", "kind", "format", "status", "total_rows",
                    "inline"]
    list_filter = ["kind", "format", "status", "inline"]
    search_fields = ["requested_by__email"]
    list_select_related = ["requested_by"]
    # the file is not linked: a download goes through the requester's own page only
    exclude = ["file"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
