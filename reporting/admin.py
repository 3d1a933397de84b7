"""Django admin for annual reports.

Staff admins edit questionnaires here. A questionnaire that reports were started with is shown
read-only: reports must keep the wording they answered, so changes go into a copy (the "copy to a
new version" action), which is published when ready. Reports themselves are read-only here —
their state changes only through the review workflow (services, audited).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from code_portal.admin import NoWriteAdminMixin
from reporting import services
from reporting.models import (
    Answer,
    Certificate,
    CriterionReview,
    Evidence,
    Question,
    Questionnaire,
    QuestionType,
    Report,
    Section,
)
from signatories.permissions import is_central_staff, is_staff_admin


def _is_staff_admin(request) -> bool:
    return bool(request.user.is_superuser or is_staff_admin(request.user))


def _questionnaire_in_use(questionnaire: Questionnaire | None) -> bool:
    if questionnaire is None or questionnaire.pk is None:
        return False
    cached = getattr(questionnaire, "report_count", None)
    if cached is not None:
        return cached > 0
    return questionnaire.reports.exists()


class StaffAdminOnly:
    """Questionnaires are edited by Code staff admins (and superusers) only."""

    def has_module_permission(self, request):
        return _is_staff_admin(request)

    def has_view_permission(self, request, obj=None):
        return _is_staff_admin(request)

    def has_add_permission(self, request, obj=None):
        return _is_staff_admin(request) and not _questionnaire_in_use(self._questionnaire(obj))

    def has_change_permission(self, request, obj=None):
        return _is_staff_admin(request) and not _questionnaire_in_use(self._questionnaire(obj))

    def has_delete_permission(self, request, obj=None):
        return _is_staff_admin(request) and not _questionnaire_in_use(self._questionnaire(obj))

    def _questionnaire(self, obj) -> Questionnaire | None:
        return obj


class QuestionForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ["code", "text", "help_text", "type", "required", "choices", "allows_evidence",
                  "show_if_question", "show_if_value", "prefill", "order"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2}),
                   "help_text": forms.Textarea(attrs={"rows": 2})}

    def clean(self):
        data = super().clean()
        qtype = data.get("type")
        choices = data.get("choices") or []
        well_formed = isinstance(choices, list) and bool(choices) and all(
            isinstance(c, dict) and str(c.get("value", "")).strip() for c in choices)
        if qtype in (QuestionType.SINGLE, QuestionType.MULTIPLE) and not well_formed:
            self.add_error("choices", _('List the options as [{"value": "…", "label": "…"}].'))
        parent = data.get("show_if_question")
        if parent is not None:
            if not data.get("show_if_value", "").strip():
                self.add_error("show_if_value", _("Give the answer that shows this question."))
            section = data.get("section") or getattr(self.instance, "section", None)
            parent_qn = parent.section.questionnaire_id
            if section is not None and section.questionnaire_id != parent_qn:
                self.add_error("show_if_question",
                               _("Choose a question of the same questionnaire."))
            if self.instance.pk and parent.pk == self.instance.pk:
                self.add_error("show_if_question", _("A question cannot depend on itself."))
        return data


class LimitParentQuestionMixin:
    """Offer only the same questionnaire's questions as the condition of a question."""

    parent_questionnaire_id: int | None = None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "show_if_question":
            qs = Question.objects.select_related("section")
            if self.parent_questionnaire_id is not None:
                qs = qs.filter(section__questionnaire_id=self.parent_questionnaire_id)
            else:
                qs = qs.none()
            kwargs["queryset"] = qs.order_by("section__order", "order", "id")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SectionInline(StaffAdminOnly, admin.TabularInline):
    model = Section
    extra = 0
    fields = ["criterion", "title", "intro", "order"]
    show_change_link = True

    def _questionnaire(self, obj):
        return obj  # the inline's obj is the parent questionnaire


class QuestionInline(LimitParentQuestionMixin, StaffAdminOnly, admin.StackedInline):
    model = Question
    form = QuestionForm
    extra = 0
    fk_name = "section"

    def _questionnaire(self, obj):
        return obj.questionnaire if obj is not None else None

    def get_formset(self, request, obj=None, **kwargs):
        self.parent_questionnaire_id = obj.questionnaire_id if obj is not None else None
        return super().get_formset(request, obj, **kwargs)


@admin.register(Questionnaire)
class QuestionnaireAdmin(StaffAdminOnly, admin.ModelAdmin):
    list_display = ["title", "year", "version", "is_published", "section_count", "report_count"]
    list_filter = ["year", "is_published"]
    search_fields = ["title"]
    ordering = ["-year", "-version"]
    inlines = [SectionInline]
    actions = ["copy_to_new_version"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            report_count=Count("reports", distinct=True),
            section_count=Count("sections", distinct=True))

    @admin.display(description=_("sections"), ordering="section_count")
    def section_count(self, obj):
        return obj.section_count

    @admin.display(description=_("reports"), ordering="report_count")
    def report_count(self, obj):
        return obj.report_count

    @admin.action(description=_("Copy to a new version (unpublished)"),
                  permissions=["add"])
    def copy_to_new_version(self, request, queryset):
        copies = [services.questionnaire_copy(actor=request.user, questionnaire=questionnaire)
                  for questionnaire in queryset.order_by("year", "version")]
        self.message_user(request, ngettext(
            "Copied to %(names)s. Edit it, then publish it.",
            "Copied to %(names)s. Edit them, then publish them.", len(copies),
        ) % {"names": ", ".join(f"{c.year} v{c.version}" for c in copies)}, messages.SUCCESS)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and _questionnaire_in_use(obj) and request.method == "GET":
            self.message_user(request, _(
                "Reports were started with this version, so it is read-only. Use “Copy to a "
                "new version” in the list to change the questions."), messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Section)
class SectionAdmin(StaffAdminOnly, admin.ModelAdmin):
    list_display = ["title", "criterion", "questionnaire", "order"]
    list_filter = ["questionnaire__year", "questionnaire", "criterion"]
    list_select_related = ["questionnaire"]
    fields = ["questionnaire", "criterion", "title", "intro", "order"]
    inlines = [QuestionInline]

    def _questionnaire(self, obj):
        return obj.questionnaire if obj is not None else None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "questionnaire":
            # a new section goes only into a version no report uses yet
            kwargs["queryset"] = Questionnaire.objects.annotate(
                n=Count("reports")).filter(n=0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Question)
class QuestionAdmin(LimitParentQuestionMixin, StaffAdminOnly, admin.ModelAdmin):
    form = QuestionForm
    list_display = ["code", "short_text", "type", "required", "section", "questionnaire"]
    list_filter = ["section__questionnaire__year", "section__questionnaire", "section__criterion",
                   "type", "required"]
    search_fields = ["code", "text"]
    list_select_related = ["section__questionnaire"]

    def get_fields(self, request, obj=None):
        return ["section", *QuestionForm.Meta.fields]

    def _questionnaire(self, obj):
        return obj.section.questionnaire if obj is not None else None

    def get_form(self, request, obj=None, change=False, **kwargs):
        self.parent_questionnaire_id = obj.section.questionnaire_id if obj is not None else None
        return super().get_form(request, obj, change, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "section":
            kwargs["queryset"] = (Section.objects.select_related("questionnaire")
                                  .annotate(n=Count("questionnaire__reports")).filter(n=0))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("question"))
    def short_text(self, obj):
        return obj.text[:80]

    @admin.display(description=_("questionnaire"), ordering="section__questionnaire")
    def questionnaire(self, obj):
        return obj.section.questionnaire


# --- reports: read-only -------------------------------------------------------------------------


class ReadOnlyForStaff(NoWriteAdminMixin):
    """Code staff may look; nobody edits here (the workflow's services do, with an audit row)."""

    def has_module_permission(self, request):
        return bool(request.user.is_superuser or is_central_staff(request.user))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)


class AnswerInline(ReadOnlyForStaff, admin.TabularInline):
    model = Answer
    fields = ["question", "value", "updated_by", "updated_at"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question", "updated_by")


class EvidenceInline(ReadOnlyForStaff, admin.TabularInline):
    model = Evidence
    # no file link: evidence is served only through the authorised download view
    fields = ["question", "original_name", "content_type", "size", "sha256", "uploaded_by",
              "uploaded_at"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question", "uploaded_by")


class CriterionReviewInline(ReadOnlyForStaff, admin.TabularInline):
    model = CriterionReview
    fields = ["round", "criterion", "score", "comment", "reviewer"]
    readonly_fields = fields
    extra = 0


@admin.register(Report)
class ReportAdmin(ReadOnlyForStaff, admin.ModelAdmin):
    list_display = ["signatory", "year", "status", "due_on", "submitted_at", "reviewer",
                    "overall_score"]
    list_filter = ["status", "year", "signatory__country", "signatory__type", "overall_score",
                   ("reviewer", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["signatory__legal_name", "signatory__trading_name",
                     "signatory__membership_number"]
    list_select_related = ["signatory", "reviewer"]
    date_hierarchy = "submitted_at"
    show_full_result_count = False
    inlines = [AnswerInline, EvidenceInline, CriterionReviewInline]
    readonly_fields = ["signatory", "year", "questionnaire", "status", "due_on", "version",
                       "submission_count", "submitted_at", "reviewer", "overall_score",
                       "decided_at", "decision_reason", "created_at", "updated_at"]
    fields = readonly_fields


class CertificateRevokedFilter(admin.SimpleListFilter):
    title = _("revoked")
    parameter_name = "revoked"

    def lookups(self, request, model_admin):
        return [("yes", _("Revoked")), ("no", _("Not revoked"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(revoked_at__isnull=True)
        return queryset


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyForStaff, admin.ModelAdmin):
    """Certificates are issued, revoked, re-issued and regenerated only through the services (the
    staff certificate pages and the API), which number, audit and e-mail; here staff look them up."""

    list_display = ["number", "company_name", "country", "year", "valid_from", "valid_until",
                    "issued_at", "revoked_at"]
    list_filter = ["year", "country", CertificateRevokedFilter]
    search_fields = ["number", "code", "company_name", "signatory__membership_number"]
    list_select_related = ["signatory"]
    date_hierarchy = "issued_at"
    show_full_result_count = False
    # no file link: the PDF is served only through the authorised download view
    fields = ["number", "code", "signatory", "report", "company_name", "country", "year",
              "valid_from", "valid_until", "issued_at", "replaces", "pdf_size", "rendered_at",
              "emailed_at", "revoked_at", "revoked_by", "revocation_reason"]
    readonly_fields = fields

