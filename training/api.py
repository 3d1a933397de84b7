"""REST API for the training log: parse input, call one service or selector, serialize output.

Every queryset starts from a selector scoped to the user (company, Code staff, local
representative's countries): another company's object is a 404. Writes go through the services,
which check the role (403) and write the audit trail.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from code_portal.private_files import private_file_response
from signatories.models import Signatory
from training import selectors, services
from training.coverage import as_of_for_year, coverage_for
from training.filters import (
    CourseFilter,
    CoverageFilter,
    HeadcountFilter,
    PersonFilter,
    RecordFilter,
    SessionFilter,
)
from training.models import (
    Course,
    Headcount,
    SessionAttachment,
    Trainee,
    TrainingRecord,
    TrainingSession,
)
from training.serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CourseSerializer,
    CourseUpdateSerializer,
    CourseWriteSerializer,
    CoverageRowSerializer,
    CoverageSerializer,
    HeadcountSerializer,
    RecordCreateSerializer,
    RecordSerializer,
    SessionSerializer,
    SessionWriteSerializer,
    TraineeSerializer,
)


def _fake(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


def _signatory(request, value) -> Signatory:
    """The signatory named in the input, if the user may see its training (else 404)."""
    return selectors.training_signatory_for(request.user, value)


def attachment_response(attachment: SessionAttachment) -> FileResponse:
    """Private file download: always as an attachment, never rendered inline."""
    return private_file_response(attachment.file, filename=attachment.original_name,
                                 content_type=attachment.content_type)


class CourseViewSet(viewsets.ModelViewSet):
    """The catalogue (``signatory`` empty, maintained by Code staff) and companies' own courses."""

    serializer_class = CourseSerializer
    filterset_class = CourseFilter

    def get_queryset(self) -> QuerySet[Course]:
        if _fake(self):
            return Course.objects.none()
        return selectors.course_list_for(self.request.user).order_by("title", "id")

    def get_serializer_class(self):
        return {"create": CourseWriteSerializer, "update": CourseUpdateSerializer,
                "partial_update": CourseUpdateSerializer}.get(self.action, CourseSerializer)

    @extend_schema(request=CourseWriteSerializer, responses={201: CourseSerializer})
    def create(self, request):
        serializer = CourseWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        signatory_id = data.pop("signatory", None)
        signatory = _signatory(request, signatory_id) if signatory_id is not None else None
        course = services.course_create(actor=request.user, signatory=signatory, data=data)
        return Response(CourseSerializer(course).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CourseUpdateSerializer, responses={200: CourseSerializer})
    def update(self, request, pk=None, partial=False):
        course = self.get_object()
        serializer = CourseUpdateSerializer(course, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        course = services.course_update(actor=request.user, course=course,
                                        data=dict(serializer.validated_data))
        return Response(CourseSerializer(course).data)

    @extend_schema(request=CourseUpdateSerializer, responses={200: CourseSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        services.course_delete(actor=request.user, course=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionViewSet(viewsets.ModelViewSet):
    """Training sessions a company held, with private attachments (attendance sheets, slides)."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[TrainingSession]:
        if _fake(self):
            return TrainingSession.objects.none()
        return selectors.session_list_for(self.request.user).prefetch_related(
            Prefetch("attachments", queryset=SessionAttachment.objects.order_by("created_at")))

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return SessionWriteSerializer
        return SessionSerializer

    @extend_schema(request=SessionWriteSerializer, responses={201: SessionSerializer})
    def create(self, request):
        serializer = SessionWriteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        signatory = _signatory(request, data.pop("signatory"))
        session = services.session_create(actor=request.user, signatory=signatory, data=data)
        return Response(SessionSerializer(self.get_queryset().get(pk=session.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=SessionWriteSerializer, responses={200: SessionSerializer})
    def update(self, request, pk=None, partial=False):
        session = self.get_object()
        serializer = SessionWriteSerializer(session, data=request.data, partial=partial,
                                            context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.session_update(actor=request.user, session=session,
                                data=dict(serializer.validated_data))
        return Response(SessionSerializer(self.get_queryset().get(pk=session.pk)).data)

    @extend_schema(request=SessionWriteSerializer, responses={200: SessionSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        services.session_delete(actor=request.user, session=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request={"multipart/form-data": AttachmentUploadSerializer},
                   responses={201: AttachmentSerializer})
    @action(detail=True, methods=["post"], url_path="attachments",
            serializer_class=AttachmentUploadSerializer)
    def attachments(self, request, pk=None):
        session = self.get_object()
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = services.attachment_add(actor=request.user, session=session,
                                             upload=serializer.validated_data["file"])
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
                   summary="Download an attachment")
    @extend_schema(methods=["DELETE"], responses={204: None}, summary="Delete an attachment")
    @action(detail=True, methods=["get", "delete"],
            url_path=r"attachments/(?P<attachment_pk>[0-9]+)", url_name="attachment")
    def attachment(self, request, pk=None, attachment_pk=None):
        attachment = selectors.attachment_get_for(request.user, attachment_pk)
        if str(attachment.session_id) != str(pk):
            raise Http404
        if request.method == "DELETE":
            services.attachment_delete(actor=request.user, attachment=attachment)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return attachment_response(attachment)


class RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Completions: who completed which course when. Filter by course, department, dates, state."""

    serializer_class = RecordSerializer
    filterset_class = RecordFilter

    def get_queryset(self) -> QuerySet[TrainingRecord]:
        if _fake(self):
            return TrainingRecord.objects.none()
        return selectors.record_list_for(self.request.user).order_by("-completed_on", "-id")

    def get_serializer_class(self):
        return RecordCreateSerializer if self.action == "create" else RecordSerializer

    @extend_schema(request=RecordCreateSerializer, responses={201: RecordSerializer})
    def create(self, request):
        serializer = RecordCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        signatory = _signatory(request, data.pop("signatory"))
        record = services.record_create(actor=request.user, signatory=signatory, **data)
        return Response(RecordSerializer(self.get_queryset().get(pk=record.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("reason", str, description="Why (audit trail)")])
    def destroy(self, request, pk=None):
        services.record_delete(actor=request.user, record=self.get_object(),
                               reason=request.query_params.get("reason", "")[:2000])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The people a company trains. ``erase`` removes a person's personal data (GDPR)."""

    serializer_class = TraineeSerializer
    filterset_class = PersonFilter

    def get_queryset(self) -> QuerySet[Trainee]:
        if _fake(self):
            return Trainee.objects.none()
        return selectors.trainee_list_for(self.request.user).annotate(
            record_count=Count("records")).order_by("name", "staff_reference", "id")

    @extend_schema(request=None, responses={200: TraineeSerializer})
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        trainee = self.get_object()
        services.trainee_erase(actor=request.user, trainee=trainee)
        return Response(TraineeSerializer(self.get_queryset().get(pk=trainee.pk)).data)


class HeadcountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """Employees and customer-facing employees per year. POST sets (or replaces) a year."""

    serializer_class = HeadcountSerializer
    filterset_class = HeadcountFilter

    def get_queryset(self) -> QuerySet[Headcount]:
        if _fake(self):
            return Headcount.objects.none()
        return selectors.headcount_list_for(self.request.user).order_by("signatory_id", "-year")

    @extend_schema(request=HeadcountSerializer, responses={200: HeadcountSerializer})
    def create(self, request):
        serializer = HeadcountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        signatory = _signatory(request, data["signatory_id"])
        headcount = services.headcount_set(
            actor=request.user, signatory=signatory, year=data["year"],
            employees=data["employees"],
            customer_facing_employees=data["customer_facing_employees"])
        return Response(HeadcountSerializer(headcount).data, status=status.HTTP_200_OK)


def _year(request) -> int:
    today = timezone.localdate()
    raw = request.query_params.get("year") or str(today.year)
    try:
        year = int(raw)
    except ValueError:
        raise ValidationError({"year": [_("Enter a year.")]}) from None
    if not 1998 <= year <= today.year:
        raise ValidationError({"year": [_("Enter a year between 1998 and this year.")]})
    return year


YEAR_PARAM = OpenApiParameter("year", int, description="Year (default: this year). A past year "
                              "is measured on 31 December, this year on today.")


class CoverageViewSet(viewsets.GenericViewSet):
    """Training coverage. ``?signatory=<id>`` gives one signatory's figures with departments;
    without it, a paginated list over the signatories the user may see (filter country, type)."""

    serializer_class = CoverageRowSerializer
    filterset_class = CoverageFilter

    def get_queryset(self) -> QuerySet[Signatory]:
        if _fake(self):
            return Signatory.objects.none()
        as_of = as_of_for_year(_year(self.request), timezone.localdate())
        return selectors.coverage_list_for(self.request.user, as_of)

    def _detail(self, request, signatory_pk) -> Response:
        signatory = _signatory(request, signatory_pk)
        as_of = as_of_for_year(_year(request), timezone.localdate())
        return Response(CoverageSerializer(coverage_for(signatory, as_of)).data)

    @extend_schema(parameters=[
        YEAR_PARAM,
        OpenApiParameter("signatory", int, description="One signatory: returns its coverage "
                         "(with departments) instead of the list."),
    ], responses={200: OpenApiResponse(CoverageRowSerializer(many=True),
                                       description="list, or one CoverageSerializer object "
                                                   "when `signatory` is given")})
    def list(self, request):
        if request.query_params.get("signatory"):
            return self._detail(request, request.query_params["signatory"])
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(CoverageRowSerializer(page, many=True).data)

    @extend_schema(parameters=[YEAR_PARAM], responses={200: CoverageSerializer})
    def retrieve(self, request, pk=None):
        return self._detail(request, pk)
