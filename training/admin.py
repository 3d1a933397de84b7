"""Django admin for Code staff: the course catalogue is edited here; the rest is read-only.

Companies' own data (sessions, people, completions, headcounts, imports) changes only through the
company's pages and the API (services, audited); staff look it up here with list filters.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from code_portal.admin import NoWriteAdminMixin
from training import services
from training.models import (
    Course,
    Headcount,
    ImportJob,
    SessionAttachment,
    Trainee,
    TrainingRecord,
    TrainingSession,
)


class CatalogueListFilter(admin.SimpleListFilter):
    title = _("owner")
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        return [("catalogue", _("The Code's catalogue")), ("company", _("A company's own"))]

    def queryset(self, request, queryset):
        if self.value() == "catalogue":
            return queryset.filter(signatory__isnull=True)
        if self.value() == "company":
            return queryset.filter(signatory__isnull=False)
        return queryset


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    """New courses made here belong to the catalogue; companies' own courses are read-only."""

    list_display = ["title", "provider", "delivery_mode", "language", "validity_months",
                    "is_active", "signatory"]
    list_filter = [CatalogueListFilter, "delivery_mode", "language", "is_active"]
    search_fields = ["title", "provider", "signatory__legal_name"]
    list_select_related = ["signatory"]
    fields = services.COURSE_FIELDS

    def _may_manage(self, request) -> bool:
        return request.user.has_perm("training.manage_catalogue")

    def has_add_permission(self, request):
        return self._may_manage(request)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request) and (obj is None or obj.signatory_id is None)

    def has_delete_permission(self, request, obj=None):
        return self._may_manage(request) and (obj is None or obj.signatory_id is None)

    def has_view_permission(self, request, obj=None):
        return self._may_manage(request) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return self._may_manage(request) or super().has_module_permission(request)

    def save_model(self, request, obj, form, change):
        # through the services: audited, and a changed validity recomputes stored expiry dates
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            stored = Course.objects.get(pk=obj.pk)
            saved = services.course_update(actor=request.user, course=stored, data=data)
        else:
            saved = services.course_create(actor=request.user, signatory=None,
                                           data=form.cleaned_data)
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request, obj):
        from code_portal.errors import DomainError

        try:
            services.course_delete(actor=request.user, course=obj)
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc

    def delete_queryset(self, request, queryset):
        for course in queryset:
            self.delete_model(request, course)


class ReadOnlyAdmin(NoWriteAdminMixin, admin.ModelAdmin):
    """Central Code staff look companies' training data up; nobody edits it here.

    (Local representatives see only their countries, which the admin cannot scope: they use the
    staff pages instead.)"""

    def has_view_permission(self, request, obj=None):
        return (request.user.has_perm("training.manage_catalogue")
                or super().has_view_permission(request, obj))

    def has_module_permission(self, request):
        return (request.user.has_perm("training.manage_catalogue")
                or super().has_module_permission(request))


class AttachmentInline(admin.TabularInline):
    model = SessionAttachment
    fields = ["original_name", "content_type", "size", "sha256", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TrainingSession)
class TrainingSessionAdmin(ReadOnlyAdmin):
    list_display = ["course", "signatory", "starts_on", "ends_on", "is_online", "trainer"]
    list_filter = ["is_online", "course__delivery_mode", ("starts_on", admin.DateFieldListFilter)]
    search_fields = ["signatory__legal_name", "course__title", "trainer", "location"]
    list_select_related = ["course", "signatory"]
    inlines = [AttachmentInline]
    date_hierarchy = "starts_on"


@admin.register(Trainee)
class TraineeAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "staff_reference", "department", "is_customer_facing",
                    "signatory", "erased_at"]
    list_filter = ["is_customer_facing", ("erased_at", admin.EmptyFieldListFilter)]
    search_fields = ["signatory__legal_name", "staff_reference", "name"]
    list_select_related = ["signatory"]
    show_full_result_count = False


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["trainee", "course", "signatory", "completed_on", "expires_on"]
    list_filter = [("completed_on", admin.DateFieldListFilter),
                   ("expires_on", admin.DateFieldListFilter), "course__delivery_mode"]
    search_fields = ["signatory__legal_name", "course__title", "trainee__staff_reference"]
    list_select_related = ["trainee", "course", "signatory"]
    show_full_result_count = False


@admin.register(Headcount)
class HeadcountAdmin(ReadOnlyAdmin):
    list_display = ["signatory", "year", "employees", "customer_facing_employees"]
    list_filter = ["year"]
    search_fields = ["signatory__legal_name"]
    list_select_related = ["signatory"]


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "signatory", "status", "total_rows", "created_records",
                    "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["signatory__legal_name", "original_name"]
    list_select_related = ["signatory"]
    exclude = ["file"]
