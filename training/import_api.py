"""API for bulk imports (``/api/v1/training/imports/``) and training downloads
(``/api/v1/training/exports/``). ``training/api_urls.py`` calls :func:`register`.

Imports: POST a file (multipart) to start one; GET one to follow its status, progress and row
errors. Exports: CSV by default, XLSX with ``?format=xlsx`` (or an ``Accept`` header).
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from signatories.models import Signatory
from signatories.selectors import signatory_list_for
from training import exports, selectors, services
from training.coverage import as_of_for_year
from training.filters import CoverageFilter
from training.models import ImportJob, ImportStatus

ERRORS_IN_DETAIL = 100


# --- Imports ------------------------------------------------------------------------------------

class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(
        allow_null=True,
        help_text=_("Line (CSV) or row (XLSX) of the file, the header being 1; null when the "
                    "error is about the whole file."))
    errors = serializers.ListField(child=serializers.CharField())


class ImportJobSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = ImportJob
        fields = ["id", "signatory", "original_name", "status", "import_valid_rows", "total_rows",
                  "processed_rows", "progress_percent", "created_records", "skipped_duplicates",
                  "uploaded_by", "created_at", "finished_at"]
        read_only_fields = fields


class ImportJobDetailSerializer(ImportJobSerializer):
    error_count = serializers.SerializerMethodField(
        help_text=_("Entries in the error list: rows with errors, or one error about the file."))
    errors = serializers.SerializerMethodField(
        help_text=_("The first 100 errors; all of them, paginated, at …/errors/."))

    class Meta(ImportJobSerializer.Meta):
        fields = [*ImportJobSerializer.Meta.fields, "error_count", "errors"]
        read_only_fields = fields

    def get_error_count(self, job: ImportJob) -> int:
        return len(job.errors)

    @extend_schema_field(RowErrorSerializer(many=True))
    def get_errors(self, job: ImportJob) -> list[dict]:
        return job.errors[:ERRORS_IN_DETAIL]


class ImportUploadSerializer(serializers.Serializer):
    signatory = serializers.PrimaryKeyRelatedField(queryset=Signatory.objects.none())
    file = serializers.FileField(help_text=_("CSV (UTF-8) or XLSX with the columns of the "
                                             "template: staff_reference, name, department, "
                                             "customer_facing, course, completed_on."))
    import_valid_rows = serializers.BooleanField(
        default=False, help_text=_("Import the valid rows even if some rows have errors."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # another company's id is refused exactly like an id that does not exist
            self.fields["signatory"].queryset = signatory_list_for(request.user)


class ImportJobFilter(django_filters.FilterSet):
    signatory = django_filters.NumberFilter(field_name="signatory_id", label=_("Signatory"))
    status = django_filters.ChoiceFilter(choices=ImportStatus.choices, label=_("Status"))

    class Meta:
        model = ImportJob
        fields: list[str] = []


class ErrorPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ImportJobViewSet(mixins.CreateModelMixin, mixins.ListModelMixin,
                       mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bulk imports of completions. The import runs in the background: follow ``status``
    (pending → running → done, invalid or failed) and ``progress_percent``."""

    filterset_class = ImportJobFilter
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[ImportJob]:
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.objects.none()
        jobs = selectors.import_list_for(self.request.user).order_by("-created_at", "-id")
        if self.action == "list":
            jobs = jobs.defer("errors")  # up to one entry per row: only the detail needs them
        return jobs

    def get_serializer_class(self):
        if self.action == "create":
            return ImportUploadSerializer
        if self.action == "list":
            return ImportJobSerializer
        return ImportJobDetailSerializer

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer},
                   responses={201: ImportJobDetailSerializer,
                              400: OpenApiResponse(description="The file or a field is invalid"),
                              403: OpenApiResponse(description="Not allowed to add training")})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        job = services.import_create(actor=request.user, signatory=values["signatory"],
                                     upload=values["file"],
                                     import_valid_rows=values["import_valid_rows"])
        job.refresh_from_db()  # eager runs (tests, dev) may have finished it already
        return Response(ImportJobDetailSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None,
                   responses={200: ImportJobDetailSerializer,
                              403: OpenApiResponse(description="Not allowed to add training"),
                              409: OpenApiResponse(description="The job is not a checked file "
                                                               "with valid rows and row errors")})
    @action(detail=True, methods=["post"], url_path="import-valid-rows", filterset_class=None)
    def import_valid_rows(self, request, pk=None):
        """A file that imported nothing because some rows have errors: import its valid rows
        (the same job runs again; follow ``status`` as after an upload)."""
        job = services.import_accept_valid_rows(actor=request.user, job=self.get_object())
        job.refresh_from_db()  # eager runs (tests, dev) may have finished it already
        return Response(ImportJobDetailSerializer(job).data)

    @extend_schema(responses={200: RowErrorSerializer(many=True)},
                   parameters=[OpenApiParameter("page_size", int, description="At most 1000")])
    @action(detail=True, methods=["get"], pagination_class=ErrorPagination,
            filterset_class=None)
    def errors(self, request, pk=None):
        """Every error of the import, in line order, paginated."""
        page = self.paginate_queryset(self.get_object().errors)
        return self.get_paginated_response(RowErrorSerializer(page, many=True).data)


# --- Exports ------------------------------------------------------------------------------------

class _FileRenderer(BaseRenderer):
    """Chosen by content negotiation; the views return the file themselves."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class CSVRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class XLSXRenderer(_FileRenderer):
    media_type = exports.XLSX_CONTENT_TYPE
    format = "xlsx"
    charset = None


FILE_RESPONSES = {(200, "text/csv"): OpenApiTypes.BINARY,
                  (200, exports.XLSX_CONTENT_TYPE): OpenApiTypes.BINARY}
YEAR = OpenApiParameter("year", int, description="Coverage on 31 December of this year, or "
                                                 "today for the current year")


class ExportViewSet(viewsets.GenericViewSet):
    """Training downloads, CSV (default) or XLSX (``?format=xlsx``)."""

    renderer_classes = [CSVRenderer, XLSXRenderer]
    pagination_class = None
    filter_backends: list = []

    def handle_exception(self, exc):
        # errors are JSON, whatever file type was asked for
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

    def _fmt(self) -> str:
        return self.request.accepted_renderer.format

    def _company(self) -> Signatory:
        signatory = selectors.training_signatory_for(self.request.user,
                                                     self.request.query_params.get("signatory"))
        if not self.request.user.has_perm("training.export", signatory):
            raise PermissionDenied
        return signatory

    def _as_of(self):
        today = timezone.localdate()
        try:
            year = int(self.request.query_params.get("year", today.year))
        except (TypeError, ValueError):
            year = today.year
        return as_of_for_year(year if 1998 <= year <= today.year else today.year, today)

    @extend_schema(responses=FILE_RESPONSES, parameters=[
        OpenApiParameter("signatory", int, required=True)])
    @action(detail=False, methods=["get"])
    def records(self, request):
        """Every completion of one signatory (its staff references, names, departments)."""
        signatory = self._company()
        exports.log_personal_data_export(actor=request.user, signatory=signatory,
                                         fmt=self._fmt())
        return exports.export_response(
            exports.records_export(signatory, today=timezone.localdate()), self._fmt())

    @extend_schema(responses=FILE_RESPONSES, parameters=[
        OpenApiParameter("signatory", int, description="One signatory's summary by department; "
                         "without it (Code staff), one row per signatory"),
        YEAR, OpenApiParameter("country", str), OpenApiParameter("type", str),
        OpenApiParameter("search", str)])
    @action(detail=False, methods=["get"])
    def coverage(self, request):
        """Coverage: of one signatory, or across signatories for Code staff."""
        if request.query_params.get("signatory"):
            return exports.export_response(
                exports.coverage_export(self._company(), as_of=self._as_of()), self._fmt())
        if not request.user.has_perm("signatories.view_queue"):
            raise Http404
        as_of = self._as_of()
        signatories = selectors.coverage_list_for(request.user, as_of)
        filterset = CoverageFilter(request.query_params, queryset=signatories, request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return exports.export_response(
            exports.staff_coverage_export(filterset.qs, as_of=as_of), self._fmt())


def register(router) -> None:
    router.register("training/imports", ImportJobViewSet, basename="api-training-import")
    router.register("training/exports", ExportViewSet, basename="api-training-export")
