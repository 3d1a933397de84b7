from django.contrib import admin

from signatories.partners.models import (
    ConfirmationRequest,
    GuidelinesText,
    GuidelinesVersion,
    Partner,
)


class GuidelinesTextInline(admin.StackedInline):
    model = GuidelinesText
    extra = 0


@admin.register(GuidelinesVersion)
class GuidelinesVersionAdmin(admin.ModelAdmin):
    """Staff publish a new version of the guidelines here (one is current)."""

    list_display = ["version", "title", "published_on", "is_current"]
    inlines = [GuidelinesTextInline]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "signatory", "kind", "country", "carries_clause", "linked_signatory"]
    list_filter = ["kind", "country"]
    search_fields = ["name"]
    raw_id_fields = ["signatory", "linked_signatory"]


@admin.register(ConfirmationRequest)
class ConfirmationRequestAdmin(admin.ModelAdmin):
    """Read-only: requests change only through the services (each change is audited)."""

    list_display = ["partner", "signatory", "status", "sent_at", "responded_at", "valid_until"]
    list_filter = ["status"]
    raw_id_fields = ["partner", "signatory"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
