"""One FilterSet for the partner list, shared by the page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from signatories.partners.models import Partner, PartnerKind, PartnerState


class PartnerFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=PartnerKind.choices, label=_("Kind"))
    country = django_filters.ChoiceFilter(choices=list(countries), label=_("Country"))
    state = django_filters.ChoiceFilter(choices=PartnerState.choices, label=_("Confirmation"),
                                        method="filter_state")
    carries_clause = django_filters.BooleanFilter(label=_("Contract carries the clause"))
    signatory = django_filters.NumberFilter(field_name="signatory_id", label=_("Signatory"))

    class Meta:
        model = Partner
        fields = ["search", "kind", "country", "state", "carries_clause", "signatory"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(city__icontains=value)
                               | Q(contract_reference__icontains=value))

    def filter_state(self, queryset, name, value):
        # ``state`` is annotated by selectors.with_state
        return queryset.filter(state=value)
