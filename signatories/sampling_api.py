"""REST API for audit samples and their items: ``/api/v1/audit-samples/``, ``/api/v1/audit-items/``.

Scoped like the pages: central staff see every sample, a local representative the samples of
their countries; anyone else gets 404 (the endpoints do not exist for them).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from code_portal.models import StaffRole, User
from signatories import sampling, selectors
from signatories.filters import AuditSampleFilter
from signatories.models import (
    AuditItem,
    AuditItemStatus,
    AuditOutcome,
    AuditSample,
    SignatoryType,
)


class AuditItemSerializer(serializers.ModelSerializer):
    signatory_name = serializers.CharField(source="signatory.legal_name", read_only=True)
    signatory_country = serializers.CharField(source="signatory.country.code", read_only=True)
    auditor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.exclude(staff_role=StaffRole.NONE), allow_null=True, required=False)
    auditor_email = serializers.EmailField(source="auditor.email", read_only=True, default=None)
    status = serializers.ChoiceField(choices=AuditItemStatus.choices, required=False)
    outcome = serializers.ChoiceField(choices=AuditOutcome.choices, allow_blank=True,
                                      required=False)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = AuditItem
        fields = ["id", "sample", "position", "signatory", "signatory_name", "signatory_country",
                  "status", "auditor", "auditor_email", "findings", "outcome", "follow_up_on",
                  "closed_at", "overdue", "updated_at"]
        read_only_fields = ["id", "sample", "position", "signatory", "closed_at", "updated_at"]

    def get_overdue(self, item: AuditItem) -> bool:
        return sampling.is_overdue(item)


class AuditSampleSerializer(serializers.ModelSerializer):
    country = CountryField(allow_blank=True, required=False)
    drawn_by = serializers.EmailField(source="drawn_by.email", read_only=True, default=None)
    planned = serializers.IntegerField(read_only=True)
    in_progress = serializers.IntegerField(read_only=True)
    closed = serializers.IntegerField(read_only=True)
    overdue = serializers.IntegerField(read_only=True)

    class Meta:
        model = AuditSample
        fields = ["id", "title", "country", "types", "requested_size", "requested_percentage",
                  "seed", "population_size", "population_digest", "sample_size", "drawn_by",
                  "drawn_at", "planned", "in_progress", "closed", "overdue"]
        read_only_fields = fields


class AuditSampleDetailSerializer(AuditSampleSerializer):
    items = AuditItemSerializer(many=True, read_only=True)

    class Meta(AuditSampleSerializer.Meta):
        fields = [*AuditSampleSerializer.Meta.fields, "items"]
        read_only_fields = fields


class AuditSampleDrawSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    country = CountryField(required=False, allow_blank=True, default="")
    types = serializers.ListField(child=serializers.ChoiceField(choices=SignatoryType.choices),
                                  required=False, default=list)
    size = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    percentage = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0,
                                          max_value=100, required=False, allow_null=True,
                                          default=None)
    seed = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class _StaffOnly:
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not request.user.has_perm("signatories.view_audit_samples"):
            raise NotFound


class AuditSampleViewSet(_StaffOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    """Audit samples: list (filters ``country``, ``all`` for samples over every country, and
    ``signatory``), draw (POST) and read one with its items."""

    filterset_class = AuditSampleFilter

    def get_queryset(self) -> QuerySet[AuditSample]:
        if getattr(self, "swagger_fake_view", False):
            return AuditSample.objects.none()
        qs = selectors.audit_sample_list_for(self.request.user)
        if self.action == "retrieve":
            items = selectors.audit_item_list_for(self.request.user).order_by("position")
            from django.db.models import Prefetch

            qs = qs.prefetch_related(Prefetch("items", queryset=items))
        return qs

    def get_serializer_class(self):
        if self.action == "retrieve":
            return AuditSampleDetailSerializer
        if self.action == "create":
            return AuditSampleDrawSerializer
        return AuditSampleSerializer

    @extend_schema(request=AuditSampleDrawSerializer, responses={201: AuditSampleDetailSerializer})
    def create(self, request):
        data = AuditSampleDrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        sample = sampling.audit_sample_draw(
            actor=request.user, country=values["country"] or "", types=values["types"],
            size=values["size"], percentage=values["percentage"], seed=values["seed"],
            title=values["title"])
        sample = self.get_queryset().prefetch_related("items__signatory", "items__auditor").get(
            pk=sample.pk)
        return Response(AuditSampleDetailSerializer(sample).data, status=status.HTTP_201_CREATED)


class AuditItemViewSet(_StaffOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """The audit of one sampled signatory. PATCH changes status, auditor, findings, outcome or
    follow-up date (every change is in the audit trail). ``?sample=<id>`` filters the list."""

    serializer_class = AuditItemSerializer
    filter_backends: list = []
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[AuditItem]:
        if getattr(self, "swagger_fake_view", False):
            return AuditItem.objects.none()
        qs = selectors.audit_item_list_for(self.request.user).order_by("sample_id", "position")
        sample = self.request.query_params.get("sample")
        if sample:
            qs = qs.filter(sample_id=selectors.audit_sample_get_for(self.request.user, sample).pk)
        return qs

    @extend_schema(request=AuditItemSerializer, responses={200: AuditItemSerializer})
    def partial_update(self, request, pk=None):
        item = self.get_object()
        serializer = AuditItemSerializer(item, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        item = sampling.audit_item_update(item=item, actor=request.user,
                                          data=dict(serializer.validated_data))
        return Response(AuditItemSerializer(item).data)
