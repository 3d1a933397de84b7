"""One FilterSet per training list, shared by the HTML page and the API endpoint."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from signatories.models import Signatory, SignatoryType
from training.coverage import REFRESHER_WINDOW_DAYS, valid_on_q
from training.models import (
    Course,
    DeliveryMode,
    Headcount,
    Trainee,
    TrainingRecord,
    TrainingSession,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RecordState(django_filters.ChoiceFilter):
    """valid / expired / expiring, as of today."""

    VALID, EXPIRED, EXPIRING = "valid", "expired", "expiring"
    CHOICES = [
        (VALID, _("Valid today")),
        (EXPIRING, _("Valid, expiring within 90 days")),
        (EXPIRED, _("Expired")),
    ]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", self.CHOICES)
        kwargs.setdefault("empty_label", _("Any"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        today = timezone.localdate()
        if value == self.VALID:
            return qs.filter(valid_on_q(today))
        if value == self.EXPIRING:
            return qs.filter(valid_on_q(today),
                             expires_on__lte=today + timedelta(days=REFRESHER_WINDOW_DAYS))
        return qs.filter(expires_on__lte=today)


class RecordFilter(django_filters.FilterSet):
    course = django_filters.ModelChoiceFilter(queryset=Course.objects.none(), label=_("Course"),
                                              empty_label=_("All courses"))
    department = django_filters.CharFilter(field_name="trainee__department",
                                           lookup_expr="iexact", label=_("Department / role"))
    completed_from = django_filters.DateFilter(field_name="completed_on", lookup_expr="gte",
                                               label=_("Completed from"), widget=DATE_WIDGET)
    completed_to = django_filters.DateFilter(field_name="completed_on", lookup_expr="lte",
                                             label=_("Completed until"), widget=DATE_WIDGET)
    state = RecordState(label=_("State"))
    customer_facing = django_filters.BooleanFilter(
        field_name="trainee__is_customer_facing", label=_("Customer-facing"),
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]))
    search = django_filters.CharFilter(method="filter_search",
                                       label=_("Name or staff reference"))
    signatory = django_filters.NumberFilter(field_name="signatory_id", label=_("Signatory"))
    person = django_filters.NumberFilter(field_name="trainee_id", label=_("Person"))

    class Meta:
        model = TrainingRecord
        fields: list[str] = []

    def __init__(self, *args, courses=None, company_page: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if courses is None and self.request is not None:
            from training.selectors import course_list_for

            courses = course_list_for(self.request.user)
        if courses is not None:
            self.filters["course"].queryset = courses.order_by("title", "id")
        if company_page:
            # the page is already about one company (and person pages have their own URL)
            del self.filters["signatory"]
            del self.filters["person"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(trainee__name__icontains=value)
                               | Q(trainee__staff_reference__iexact=value))


class SessionFilter(django_filters.FilterSet):
    signatory = django_filters.NumberFilter(field_name="signatory_id", label=_("Signatory"))
    course = django_filters.NumberFilter(field_name="course_id", label=_("Course"))
    starts_from = django_filters.DateFilter(field_name="starts_on", lookup_expr="gte",
                                            label=_("From"), widget=DATE_WIDGET)
    starts_to = django_filters.DateFilter(field_name="starts_on", lookup_expr="lte",
                                          label=_("Until"), widget=DATE_WIDGET)

    class Meta:
        model = TrainingSession
        fields: list[str] = []


class PersonFilter(django_filters.FilterSet):
    signatory = django_filters.NumberFilter(field_name="signatory_id", label=_("Signatory"))
    department = django_filters.CharFilter(lookup_expr="iexact", label=_("Department / role"))
    is_customer_facing = django_filters.BooleanFilter(label=_("Customer-facing"))

    class Meta:
        model = Trainee
        fields: list[str] = []


class HeadcountFilter(django_filters.FilterSet):
    signatory = django_filters.NumberFilter(field_name="signatory_id", label=_("Signatory"))
    year = django_filters.NumberFilter(label=_("Year"))

    class Meta:
        model = Headcount
        fields: list[str] = []


class CourseFilter(django_filters.FilterSet):
    signatory = django_filters.NumberFilter(method="filter_signatory",
                                            label=_("Courses of this signatory"))
    catalogue = django_filters.BooleanFilter(field_name="signatory", lookup_expr="isnull",
                                             label=_("Catalogue courses"))
    delivery_mode = django_filters.ChoiceFilter(choices=DeliveryMode.choices,
                                                label=_("Delivery mode"))
    is_active = django_filters.BooleanFilter(label=_("Offered"))

    class Meta:
        model = Course
        fields: list[str] = []

    def filter_signatory(self, queryset, name, value):
        return queryset.filter(signatory_id=value)


class CoverageFilter(django_filters.FilterSet):
    """Coverage across signatories (Code staff)."""

    country = django_filters.ChoiceFilter(choices=lambda: list(countries), label=_("Country"),
                                          empty_label=_("All countries"))
    type = django_filters.ChoiceFilter(choices=SignatoryType.choices, label=_("Type"),
                                       empty_label=_("All types"))
    search = django_filters.CharFilter(method="filter_search", label=_("Search by name"))

    class Meta:
        model = Signatory
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(legal_name__icontains=value) | Q(trading_name__icontains=value)
                               | Q(membership_number__iexact=value))
