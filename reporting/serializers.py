"""Serializers for the annual-report API. Output shapes and input parsing only; no writes."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from code_portal.models import User
from reporting.models import (
    Criterion,
    CriterionReview,
    Evidence,
    Question,
    Questionnaire,
    Report,
    ReportStatus,
    Score,
)
from reporting.report_page import HistoryEntry, QuestionRow, ReportPage, SectionBlock

# --- small nested shapes ------------------------------------------------------------------------


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return user.full_name or user.email


class ReportSignatorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")
    country = serializers.CharField(source="country.code")
    type = serializers.CharField()
    membership_number = serializers.CharField()


# --- lists --------------------------------------------------------------------------------------


class ReportSerializer(serializers.ModelSerializer):
    """A report in a list: no answers. Everything here comes from the list's single query."""

    signatory = ReportSignatorySerializer()
    status_display = serializers.CharField(source="get_status_display")
    reviewer = PersonSerializer(allow_null=True)
    questionnaire_version = serializers.IntegerField(source="questionnaire.version")

    class Meta:
        model = Report
        fields = ["id", "signatory", "year", "status", "status_display", "due_on", "version",
                  "questionnaire", "questionnaire_version", "submission_count", "submitted_at",
                  "reviewer", "overall_score", "decided_at", "created_at", "updated_at"]


class ReportStartSerializer(serializers.Serializer):
    signatory = serializers.IntegerField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)


# --- the full report ----------------------------------------------------------------------------


def evidence_download_url(evidence: Evidence) -> str:
    return reverse("api-report-evidence-download",
                   kwargs={"pk": evidence.report_id, "evidence_id": evidence.pk})


class EvidenceSerializer(serializers.ModelSerializer):
    question = serializers.SerializerMethodField()
    uploaded_by = PersonSerializer(allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "question", "original_name", "content_type", "size", "sha256",
                  "uploaded_by", "uploaded_at", "download_url"]

    def get_question(self, evidence: Evidence) -> str:
        codes = self.context.get("question_codes") or {}
        return codes.get(evidence.question_id) or evidence.question.code

    def get_download_url(self, evidence: Evidence) -> str:
        return evidence_download_url(evidence)


class CriterionReviewSerializer(serializers.ModelSerializer):
    reviewer = PersonSerializer(allow_null=True)

    class Meta:
        model = CriterionReview
        fields = ["round", "criterion", "score", "comment", "reviewer", "updated_at"]


def _show_if(question: Question, codes: dict[int, str]) -> dict[str, str] | None:
    if not question.show_if_question_id:
        return None
    return {"question": codes.get(question.show_if_question_id, ""),
            "value": question.show_if_value}


def _question(question: Question, codes: dict[int, str]) -> dict[str, Any]:
    return {
        "code": question.code,
        "text": question.text,
        "help_text": question.help_text,
        "type": question.type,
        "required": question.required,
        "choices": question.choices or [],
        "allows_evidence": question.allows_evidence,
        "show_if": _show_if(question, codes),
        "prefill": question.prefill,
    }


def reviews_visible_to_company(report: Report, reviews: list[CriterionReview]
                               ) -> list[CriterionReview]:
    """The company sees a round's comments once that round is decided (changes requested,
    approved or rejected) — never a review still in progress."""
    decided = report.status in (ReportStatus.CHANGES_REQUESTED, ReportStatus.APPROVED,
                                ReportStatus.REJECTED)
    last_out = report.submission_count if decided else report.submission_count - 1
    return [r for r in reviews if r.round <= last_out]


class ReportDetailSerializer(serializers.Serializer):
    """The whole report, from a :class:`reporting.report_page.ReportPage`.

    Context: ``for_staff`` (every round's reviews), ``permissions`` (what the user may do),
    ``errors`` (per-question errors of the save that produced this response).
    """

    def to_representation(self, page: ReportPage) -> dict[str, Any]:
        report = page.report
        for_staff = bool(self.context.get("for_staff"))
        codes = {q.pk: q.code for q in page.questions}
        evidence_context = {"question_codes": codes}
        data = ReportSerializer(report).data
        data["questionnaire_title"] = report.questionnaire.title
        data["decision_reason"] = report.decision_reason
        data["permissions"] = self.context.get("permissions", {})
        data["sections"] = [self._section(report, block, codes, evidence_context, for_staff)
                            for block in page.sections]
        if "errors" in self.context:
            data["errors"] = self.context["errors"]
        return data

    def _section(self, report: Report, block: SectionBlock, codes: dict[int, str],
                 evidence_context: dict, for_staff: bool) -> dict[str, Any]:
        reviews = block.reviews if for_staff else reviews_visible_to_company(report,
                                                                               block.reviews)
        return {
            "criterion": block.section.criterion,
            "criterion_label": str(Criterion(block.section.criterion).label),
            "title": block.section.title,
            "intro": block.section.intro,
            "questions": [self._row(row, codes, evidence_context) for row in block.rows],
            "reviews": CriterionReviewSerializer(reviews, many=True).data,
        }

    def _row(self, row: QuestionRow, codes: dict[int, str],
             evidence_context: dict) -> dict[str, Any]:
        return {
            **_question(row.question, codes),
            "visible": row.visible,
            "answer": row.saved,
            "answer_display": row.display,
            "previous_answer_display": row.previous,
            "evidence": EvidenceSerializer(row.evidence, many=True,
                                           context=evidence_context).data,
        }


class AnswersUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text=_("The report version your copy was loaded at (edit check)."))
    answers = serializers.DictField(
        child=serializers.JSONField(allow_null=True), allow_empty=True,
        help_text=_("Answers by question code; null or empty clears an answer."))


class EvidenceUploadSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=60)
    file = serializers.FileField(allow_empty_file=True, use_url=False)


class MissingAnswerSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    message = serializers.CharField()
    link = serializers.CharField()


class MissingAnswersResponseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    missing = MissingAnswerSerializer(many=True)


# --- actions ------------------------------------------------------------------------------------


def _overall_score_field() -> serializers.ChoiceField:
    # Left out: the overall score saved during the review is kept; "" clears it.
    return serializers.ChoiceField(
        choices=Score.choices, required=False, allow_blank=True,
        help_text=_("Overall score (met, partly, not_met); left out keeps the one saved."))


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    overall_score = _overall_score_field()


class ApproveSerializer(ReasonSerializer):
    pass


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)
    overall_score = _overall_score_field()


class AssignSerializer(serializers.Serializer):
    reviewer = serializers.IntegerField(allow_null=True,
                                        help_text=_("User id of the reviewer; null unassigns."))


class CriterionReviewInputSerializer(serializers.Serializer):
    criterion = serializers.ChoiceField(choices=Criterion.choices)
    score = serializers.ChoiceField(choices=Score.choices, required=False, allow_blank=True,
                                    default="")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10000,
                                    default="")


class DueDateSerializer(serializers.Serializer):
    due_on = serializers.DateField()
    reason = serializers.CharField(max_length=4000)


class HistorySerializer(serializers.Serializer):
    def to_representation(self, entry: HistoryEntry) -> dict[str, Any]:
        event = entry.event
        return {"occurred_at": serializers.DateTimeField().to_representation(event.occurred_at),
                "actor": event.actor_label, "action": event.action, "label": entry.label,
                "count": entry.count, "from_state": event.from_state,
                "to_state": event.to_state, "reason": event.reason}


# --- questionnaires -----------------------------------------------------------------------------


class QuestionnaireSerializer(serializers.Serializer):
    def to_representation(self, questionnaire: Questionnaire) -> dict[str, Any]:
        sections = list(questionnaire.sections.all())
        codes = {q.pk: q.code for s in sections for q in s.questions.all()}
        return {
            "id": questionnaire.pk,
            "year": questionnaire.year,
            "version": questionnaire.version,
            "title": questionnaire.title,
            "sections": [{
                "criterion": s.criterion,
                "criterion_label": str(Criterion(s.criterion).label),
                "title": s.title,
                "intro": s.intro,
                "questions": [_question(q, codes) for q in s.questions.all()],
            } for s in sections],
        }
