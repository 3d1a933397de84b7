from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from code_portal.admin import NoWriteAdminMixin
from signatories.models import (
    AuditItem,
    AuditSample,
    CodeVersion,
    Invitation,
    Membership,
    Signatory,
    StaffNote,
)
from signatories.services import PROFILE_FIELDS, STAFF_ONLY_FIELDS, signatory_update_profile


class MembershipInline(NoWriteAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = fields


@admin.register(Signatory)
class SignatoryAdmin(SimpleHistoryAdmin):
    list_display = ["legal_name", "trading_name", "type", "country", "status",
                    "membership_number", "member_since", "possible_duplicate"]
    list_filter = ["status", "type", "country", "possible_duplicate"]
    search_fields = ["legal_name", "trading_name", "membership_number", "website_domain"]
    # The status changes only through the services (audited); the admin cannot edit it. Profile
    # fields are saved through signatory_update_profile, so an admin edit is audited like any other.
    fields = [*PROFILE_FIELDS, *STAFF_ONLY_FIELDS, "status", "membership_number", "applied_at",
              "approved_at", "signed_at", "signer_name", "signer_title", "signed_code_version",
              "member_since", "status_changed_at", "possible_duplicate"]
    readonly_fields = ["status", "membership_number", "applied_at", "approved_at", "signed_at",
                       "signer_name", "signer_title", "signed_code_version", "member_since",
                       "status_changed_at", "possible_duplicate"]
    inlines = [MembershipInline]
    list_select_related = True
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # companies apply (public form or API); staff never create them here

    def has_delete_permission(self, request, obj=None):
        return False  # signatories are withdrawn or expelled, never deleted

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data
                if name in PROFILE_FIELDS or name in STAFF_ONLY_FIELDS}
        # A staff member without the right to edit this profile gets the service's 403.
        signatory_update_profile(signatory=Signatory.objects.get(pk=obj.pk), actor=request.user,
                                 data=data, reason=str(_("edited in the Django admin")))


@admin.register(CodeVersion)
class CodeVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "published_on", "is_current"]


@admin.register(Membership)
class MembershipAdmin(NoWriteAdminMixin, admin.ModelAdmin):
    list_display = ["user", "signatory", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "signatory__legal_name"]
    autocomplete_fields = ["user", "signatory"]
    list_select_related = ["user", "signatory"]


@admin.register(Invitation)
class InvitationAdmin(NoWriteAdminMixin, admin.ModelAdmin):
    list_display = ["email", "signatory", "role", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["email", "signatory__legal_name"]
    readonly_fields = ["token_hash"]
    list_select_related = ["signatory"]


@admin.register(StaffNote)
class StaffNoteAdmin(admin.ModelAdmin):
    list_display = ["signatory", "author", "created_at"]
    list_select_related = ["signatory", "author"]


class _ReadOnlyAdmin(NoWriteAdminMixin, admin.ModelAdmin):
    """Samples and audits change only through the staff pages and the API, which audit every
    change; the Django admin only reads them."""


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
