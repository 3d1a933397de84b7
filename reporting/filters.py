"""One FilterSet for report lists, shared by the staff review queue page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from code_portal.models import User
from reporting.models import Report, ReportStatus
from signatories.models import SignatoryType


def _reviewers(request):
    # Anyone with a Code staff role may be assigned (local representatives review their countries).
    return User.objects.filter(is_active=True).exclude(staff_role="").order_by("full_name", "email")


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
    search = django_filters.CharFilter(method="filter_search", label=_("Search by company"))

    class Meta:
        model = Report
        fields = ["status", "year", "country", "type", "reviewer", "signatory", "search"]

    def filter_search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(
            Q(signatory__legal_name__icontains=value)
            | Q(signatory__trading_name__icontains=value)
            | Q(signatory__membership_number__iexact=value)
        )
