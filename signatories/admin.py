from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from signatories.models import (
    AuditItem,
    AuditSample,
    CodeVersion,
    Invitation,
    Membership,
    Signatory,
    StaffNote,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Signatory)
class SignatoryAdmin(SimpleHistoryAdmin):
    list_display = ["legal_name", "trading_name", "type", "country", "status",
                    "membership_number", "member_since", "possible_duplicate"]
    list_filter = ["status", "type", "country", "possible_duplicate"]
    search_fields = ["legal_name", "trading_name", "membership_number", "website_domain"]
    # The status changes only through the services (audited); the admin cannot edit it.
    readonly_fields = ["status", "membership_number", "applied_at", "approved_at", "signed_at",
                       "signer_name", "signer_title", "signed_code_version", "member_since",
                       "status_changed_at"]
    inlines = [MembershipInline]
    list_select_related = True
    show_full_result_count = False


@admin.register(CodeVersion)
class CodeVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "published_on", "is_current"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "signatory", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "signatory__legal_name"]
    autocomplete_fields = ["user", "signatory"]
    list_select_related = ["user", "signatory"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "signatory", "role", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["email", "signatory__legal_name"]
    readonly_fields = ["token_hash"]
    list_select_related = ["signatory"]


@admin.register(StaffNote)
class StaffNoteAdmin(admin.ModelAdmin):
    list_display = ["signatory", "author", "created_at"]
    list_select_related = ["signatory", "author"]


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Samples and audits change only through the staff pages and the API, which audit every
    change; the Django admin only reads them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditItemInline(admin.TabularInline):
    model = AuditItem
    extra = 0
    fields = ["position", "signatory", "status", "auditor", "outcome", "follow_up_on"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AuditSample)
class AuditSampleAdmin(_ReadOnlyAdmin):
    list_display = ["__str__", "country", "sample_size", "population_size", "seed", "drawn_by",
                    "drawn_at"]
    list_filter = ["country"]
    list_select_related = ["drawn_by"]
    inlines = [AuditItemInline]


@admin.register(AuditItem)
class AuditItemAdmin(_ReadOnlyAdmin):
    list_display = ["signatory", "sample", "status", "auditor", "outcome", "follow_up_on"]
    list_filter = ["status", "outcome"]
    search_fields = ["signatory__legal_name"]
    list_select_related = ["signatory", "sample", "auditor"]
