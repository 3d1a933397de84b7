"""One FilterSet per list, shared by the HTML page and the API endpoint."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from signatories.models import AuditSample, Signatory, SignatoryStatus, SignatoryType


class SignatoryFilter(django_filters.FilterSet):
    # distinct=False: these are columns of the signatory itself, so no row can repeat, and the
    # default DISTINCT over every column made PostgreSQL sort the whole filtered set.
    status = django_filters.MultipleChoiceFilter(choices=SignatoryStatus.choices,
                                                 label=_("Status"), distinct=False)
    type = django_filters.MultipleChoiceFilter(choices=SignatoryType.choices, label=_("Type"),
                                               distinct=False)
    country = django_filters.MultipleChoiceFilter(choices=lambda: list(countries),
                                                  label=_("Country"), distinct=False)
    search = django_filters.CharFilter(method="filter_search", label=_("Search by name"))
    possible_duplicate = django_filters.BooleanFilter(label=_("Possible duplicate"))

    class Meta:
        model = Signatory
        fields = ["status", "type", "country", "search", "possible_duplicate"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(legal_name__icontains=value) | Q(trading_name__icontains=value)
            | Q(membership_number__iexact=value)
        )


class AuditSampleFilter(django_filters.FilterSet):
    """Audit samples: by country (blank = samples over every country) and by a signatory
    they drew. The queryset is already scoped to the samples the user may see."""

    country = django_filters.ChoiceFilter(choices=lambda: [("all", _("Every country")),
                                                           *countries],
                                          method="filter_country", label=_("Country"))
    signatory = django_filters.NumberFilter(field_name="items__signatory",
                                            label=_("Drew the signatory (id)"), distinct=False)

    class Meta:
        model = AuditSample
        fields = ["country", "signatory"]

    def filter_country(self, queryset, name, value):
        return queryset.filter(country="" if value == "all" else value)
