"""``/api/v1/exports/``: exports of staff lists for API clients, always as a job.

``POST {"kind", "format", "query"}`` (``query``: the list's query string, e.g.
``country=SE&status=active``) answers 201 with the job; poll ``GET /api/v1/exports/{id}/``
until ``status`` is ``done``, then ``GET /api/v1/exports/{id}/download/``. A job is visible to
its requester only (404 for everyone else); people without the export permission get 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from code_portal.staff import exports, services
from code_portal.staff.models import ExportJob, ExportStatus
from code_portal.staff.selectors import export_jobs_for


class ExportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=exports.kind_choices())
    format = serializers.ChoiceField(choices=list(exports.FORMATS))
    query = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class ExportJobSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = ["id", "kind", "format", "filters", "status", "total_rows", "processed_rows",
                  "progress_percent", "error", "created_at", "finished_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportStatus.DONE or not job.file:
            return None
        return reverse("api-export-download", args=[job.pk])


class ExportJobViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ExportJobSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[ExportJob]:
        if getattr(self, "swagger_fake_view", False):
            return ExportJob.objects.none()
        return export_jobs_for(self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=ExportRequestSerializer, responses={201: ExportJobSerializer})
    def create(self, request, *args, **kwargs):
        self.get_queryset()  # 404 for anyone without the export permission
        data = ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job, _export = services.export_request(
            actor=request.user, kind=data.validated_data["kind"],
            fmt=data.validated_data["format"], params=QueryDict(data.validated_data["query"]),
            allow_inline=False)
        job.refresh_from_db()
        return Response(ExportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.BINARY,
                                                   description="The CSV or XLSX file")})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        from code_portal.staff.export_views import download_response

        return download_response(self.get_object())
