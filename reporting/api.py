"""REST API for annual reports: parse input, call one service or selector, serialize output.

Every report endpoint starts from ``report_list_for(user)``: another company's report, or one
outside a local representative's countries, is a 404 exactly like a missing one.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from code_portal.models import User
from code_portal.private_files import private_file_response
from reporting import selectors, services
from reporting.filters import ReportFilter
from reporting.models import Evidence, Question, Report
from reporting.report_page import build_report_page, report_history
from reporting.serializers import (
    AnswersUpdateSerializer,
    ApproveSerializer,
    AssignSerializer,
    CriterionReviewInputSerializer,
    CriterionReviewSerializer,
    DueDateSerializer,
    EvidenceSerializer,
    EvidenceUploadSerializer,
    HistorySerializer,
    MissingAnswersResponseSerializer,
    QuestionnaireSerializer,
    ReasonSerializer,
    RejectSerializer,
    ReportDetailSerializer,
    ReportSerializer,
    ReportStartSerializer,
)
from signatories.selectors import signatory_get_for

# What the client may offer the user, per report (checked again by every service).
PERMISSIONS = {
    "edit": "reporting.edit_report",
    "submit": "reporting.submit_report",
    "review": "reporting.review_report",
    "decide": "reporting.decide_report",
    "assign": "reporting.assign_report",
    "set_due_date": "reporting.set_due_date",
}


def _permissions(user: User, report: Report) -> dict[str, bool]:
    return {name: user.has_perm(perm, report.signatory) for name, perm in PERMISSIONS.items()}


def _detail(request, report: Report, **context) -> dict:
    user = request.user
    for_staff = user.has_perm("reporting.review_report", report.signatory)
    # The company sees its own earlier answers too; staff review side by side with them.
    page = build_report_page(report, with_previous=True, with_reviews="all")
    return ReportDetailSerializer(page, context={
        "for_staff": for_staff, "permissions": _permissions(user, report), **context}).data


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ReportViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Annual reports. Companies see their own; Code staff all; local representatives those
    of their countries. Writes go through the reporting services (never a plain model save)."""

    serializer_class = ReportSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ReportFilter
    ordering_fields = ["id", "submitted_at", "due_on", "year", "updated_at"]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[Report]:
        if getattr(self, "swagger_fake_view", False):
            return Report.objects.none()
        # Newest first by id: the primary key's index serves the first page at once, where
        # ("-year", "-id") sorted all 300k rows for staff (bench/reporting.py). ?ordering=
        # offers year, submission and due date.
        return selectors.report_list_for(self.request.user).order_by("-id")

    # --- list / create / read / answer ---------------------------------------------------------

    @extend_schema(request=ReportStartSerializer, responses={201: ReportSerializer,
                                                             200: ReportSerializer})
    def create(self, request):
        """Start (or open) the signatory's report for a year: ``report_start``."""
        values = _valid(ReportStartSerializer, request.data)
        try:
            signatory = signatory_get_for(request.user, values["signatory"])
        except Http404 as exc:
            raise ValidationError({"signatory": ["Unknown signatory."]}) from exc
        existed = Report.objects.filter(signatory=signatory, year=values["year"]).exists()
        report = services.report_start(actor=request.user, signatory=signatory,
                                       year=values["year"])
        report = self.get_queryset().get(pk=report.pk)
        return Response(ReportSerializer(report).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, pk=None):
        """The whole report: sections, questions (with ``visible``), answers, evidence, and
        the reviewer's comments (for the company: of rounds already sent back or decided)."""
        return Response(_detail(request, self.get_object()))

    @extend_schema(request=AnswersUpdateSerializer, responses={
        200: OpenApiTypes.OBJECT, 409: OpenApiResponse(description="edit conflict")})
    def partial_update(self, request, pk=None):
        """Save answers by question code. Valid answers are saved even when others are not;
        ``errors`` lists the refused ones. A stale ``version`` is refused with 409."""
        report = self.get_object()
        values = _valid(AnswersUpdateSerializer, request.data)
        report, errors = services.report_save_answers(
            actor=request.user, report=report, values=values["answers"],
            expected_version=values["version"])
        return Response(_detail(request, self.get_object(), errors=errors))

    @extend_schema(responses={200: ReportSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def queue(self, request):
        """Code staff's review queue: submitted and under review, oldest submission first."""
        queryset = self.filter_queryset(selectors.review_queue_for(request.user))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ReportSerializer(page, many=True).data)

    @extend_schema(responses={200: HistorySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Who did what and when (staff also see assignments)."""
        report = self.get_object()
        entries = report_history(report, for_staff=request.user.is_code_staff)
        return Response(HistorySerializer(entries, many=True).data)

    # --- evidence ------------------------------------------------------------------------------

    @extend_schema(methods=["get"], responses={200: EvidenceSerializer(many=True)})
    @extend_schema(methods=["post"], request={"multipart/form-data": EvidenceUploadSerializer},
                   responses={201: EvidenceSerializer})
    @action(detail=True, methods=["get", "post"])
    def evidence(self, request, pk=None):
        """List the report's files, or upload one (multipart: ``question`` code and ``file``).
        The type is checked by content; files are private."""
        report = self.get_object()
        if request.method == "GET":
            items = (Evidence.objects.filter(report=report)
                     .select_related("question", "uploaded_by"))
            return Response(EvidenceSerializer(items, many=True).data)
        values = _valid(EvidenceUploadSerializer, request.data)
        question = (Question.objects.select_related("section")
                    .filter(section__questionnaire_id=report.questionnaire_id,
                            code=values["question"]).first())
        if question is None:
            raise ValidationError({"question": ["Unknown question."]})
        evidence = services.evidence_add(actor=request.user, report=report, question=question,
                                         upload=values["file"])
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    def _evidence(self, report: Report, evidence_id: str) -> Evidence:
        return get_object_or_404(Evidence.objects.select_related("report__signatory", "question"),
                                 pk=evidence_id, report=report)

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"evidence/(?P<evidence_id>[0-9]+)/download",
            url_name="evidence-download")
    def evidence_download(self, request, pk=None, evidence_id=None):
        """The file itself, as an attachment (never rendered inline)."""
        evidence = self._evidence(self.get_object(), evidence_id)
        return private_file_response(evidence.file, filename=evidence.original_name,
                                     content_type=evidence.content_type)

    @extend_schema(responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"evidence/(?P<evidence_id>[0-9]+)",
            url_name="evidence-delete")
    def evidence_delete(self, request, pk=None, evidence_id=None):
        services.evidence_delete(actor=request.user,
                                 evidence=self._evidence(self.get_object(), evidence_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- workflow ------------------------------------------------------------------------------

    @extend_schema(request=None, responses={200: ReportSerializer,
                                            400: MissingAnswersResponseSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit for review. If required answers are missing: 400 with what and where."""
        report = self.get_object()
        try:
            report = services.report_submit(actor=request.user, report=report)
        except services.MissingAnswers as exc:
            link = reverse("report-detail", args=[report.pk])
            return Response({
                "detail": exc.message,
                "missing": [{"code": m.question.code, "text": m.question.text,
                             "message": m.message, "link": f"{link}#q-{m.question.code}"}
                            for m in exc.missing],
            }, status=status.HTTP_400_BAD_REQUEST)
        return self._summary(report)

    @extend_schema(request=ReasonSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        values = _valid(ReasonSerializer, request.data)
        return self._summary(services.report_request_changes(
            actor=request.user, report=self.get_object(), reason=values["reason"],
            overall_score=values.get("overall_score")))

    @extend_schema(request=ApproveSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        values = _valid(ApproveSerializer, request.data)
        return self._summary(services.report_approve(
            actor=request.user, report=self.get_object(),
            overall_score=values.get("overall_score"), reason=values["reason"]))

    @extend_schema(request=RejectSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        values = _valid(RejectSerializer, request.data)
        return self._summary(services.report_reject(
            actor=request.user, report=self.get_object(), reason=values["reason"],
            overall_score=values.get("overall_score")))

    @extend_schema(request=AssignSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        report = self.get_object()
        values = _valid(AssignSerializer, request.data)
        reviewer = None
        if values["reviewer"] is not None:
            reviewer = (User.objects.filter(pk=values["reviewer"], is_active=True)
                        .exclude(staff_role="").first())
            if reviewer is None:
                raise ValidationError({"reviewer": ["Unknown reviewer."]})
        return self._summary(services.report_assign(actor=request.user, report=report,
                                                    reviewer=reviewer))

    @extend_schema(request=CriterionReviewInputSerializer,
                   responses={200: CriterionReviewSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Score and comment one criterion for the current submission round."""
        values = _valid(CriterionReviewInputSerializer, request.data)
        review = services.report_review_criterion(
            actor=request.user, report=self.get_object(), criterion=int(values["criterion"]),
            score=values["score"], comment=values["comment"])
        return Response(CriterionReviewSerializer(review).data)

    @extend_schema(request=DueDateSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"], url_path="due-date")
    def due_date(self, request, pk=None):
        values = _valid(DueDateSerializer, request.data)
        return self._summary(services.report_set_due_date(
            actor=request.user, report=self.get_object(), due_on=values["due_on"],
            reason=values["reason"]))

    def _summary(self, report: Report) -> Response:
        return Response(ReportSerializer(self.get_queryset().get(pk=report.pk)).data)


class QuestionnaireView(GenericAPIView):
    """The published questionnaire in force for a reporting year (its latest version)."""

    serializer_class = QuestionnaireSerializer
    filter_backends: list = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, year: int):
        return Response(QuestionnaireSerializer(selectors.questionnaire_for_year(year)).data)
