"""One FilterSet for report lists, shared by the staff review queue page and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from code_portal.models import User
from reporting.models import Report, ReportStatus
from signatories.models import SignatoryType


def _reviewers(request):
    # Anyone with a Code staff role may be assigned (local representatives review their countries).
    return User.objects.filter(is_active=True).exclude(staff_role="").order_by("full_name", "email")


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ReportFilter(django_filters.FilterSet):
    # distinct=False: every filter is on a to-one relation, and DISTINCT over the whole queue
    # would force PostgreSQL to sort all matching rows before paginating.
    status = django_filters.MultipleChoiceFilter(choices=ReportStatus.choices, label=_("Status"),
                                                 distinct=False)
    year = django_filters.NumberFilter(label=_("Reporting year"))
    country = django_filters.MultipleChoiceFilter(field_name="signatory__country",
                                                  choices=lambda: list(countries),
                                                  label=_("Country"), distinct=False)
    type = django_filters.MultipleChoiceFilter(field_name="signatory__type",
                                               choices=SignatoryType.choices,
                                               label=_("Signatory type"), distinct=False)
    # ?reviewer=<id>, or ?reviewer=null for reports nobody is assigned to yet
    reviewer = django_filters.ModelChoiceFilter(queryset=_reviewers, label=_("Reviewer"),
                                                null_label=_("Unassigned"))
    signatory = django_filters.NumberFilter(field_name="signatory_id", label=_("Signatory"))
    # inclusive date ranges (the staff dashboard links "due this month", "overdue", "approved in")
    due_from = django_filters.DateFilter(field_name="due_on", lookup_expr="gte",
                                         label=_("Due from"), widget=DATE)
    due_to = django_filters.DateFilter(field_name="due_on", lookup_expr="lte", label=_("Due until"),
                                       widget=DATE)
    decided_from = django_filters.DateFilter(field_name="decided_at", lookup_expr="date__gte",
                                             label=_("Decided from"), widget=DATE)
    decided_to = django_filters.DateFilter(field_name="decided_at", lookup_expr="date__lte",
                                           label=_("Decided until"), widget=DATE)
    search = django_filters.CharFilter(method="filter_search", label=_("Search by company"))

    class Meta:
        model = Report
        fields = ["status", "year", "country", "type", "reviewer", "signatory", "search",
                  "due_from", "due_to", "decided_from", "decided_to"]

    def filter_search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(
            Q(signatory__legal_name__icontains=value)
            | Q(signatory__trading_name__icontains=value)
            | Q(signatory__membership_number__iexact=value)
        )
