"""One FilterSet for the audit trail, shared by the page, the API and the export."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from code_portal.models import AuditEvent

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# the apps whose objects are audited (what "object type" offers)
AUDITED_APPS = ("code_portal", "signatories", "partners", "reporting", "training", "staff")


def _object_types(request):
    return ContentType.objects.filter(app_label__in=AUDITED_APPS).order_by("app_label", "model")


class ObjectTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ContentType) -> str:
        model = obj.model_class()
        return str(model._meta.verbose_name).capitalize() if model else obj.model


class ObjectTypeFilter(django_filters.ModelChoiceFilter):
    field_class = ObjectTypeChoiceField


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditEventFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search",
                                       label=_("Search (object, reason, actor)"))
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="icontains",
                                      label=_("Actor (e-mail)"))
    action = django_filters.CharFilter(
        method="filter_action", label=_("Action"),
        help_text=_("For example signatory.suspend, or signatory for all of its actions"))
    object_type = ObjectTypeFilter(field_name="content_type", queryset=_object_types,
                                   label=_("Object type"), empty_label=_("All types"))
    object_id = django_filters.CharFilter(field_name="object_id", label=_("Object number"))
    signatory = django_filters.NumberFilter(field_name="signatory_id", label=_("Signatory number"))
    country = django_filters.ChoiceFilter(field_name="signatory__country",
                                          choices=lambda: list(countries),
                                          label=_("Signatory's country"),
                                          empty_label=_("All countries"))
    # events up to this one (an export pins the trail as it was when it was asked for)
    until_event = django_filters.NumberFilter(field_name="pk", lookup_expr="lte",
                                              label=_("Up to event number"))
    occurred_from = django_filters.DateFilter(method="filter_from", label=_("From"),
                                              widget=DATE_WIDGET)
    occurred_to = django_filters.DateFilter(method="filter_to", label=_("Until (inclusive)"),
                                            widget=DATE_WIDGET)

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(Q(object_repr__icontains=value) | Q(reason__icontains=value)
                               | Q(actor_label__icontains=value))

    def filter_action(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if "." in value:
            return queryset.filter(action=value)
        # a family of actions: "report" → report.submitted, report.approved, …
        return queryset.filter(Q(action=value) | Q(action__startswith=f"{value}."))

    # ranges on the indexed column itself (not on its date), in the current time zone
    def filter_from(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=_start_of(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(occurred_at__lt=_start_of(value + timedelta(days=1)))
