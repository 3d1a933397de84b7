"""Factories and small builders for annual-report tests."""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import date, timedelta
from typing import Any

import factory
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Max
from django.utils import timezone

from reporting.models import (
    Answer,
    CriterionReview,
    Evidence,
    Question,
    Questionnaire,
    QuestionType,
    Report,
    ReportStatus,
    Section,
)
from signatories.models import SignatoryStatus
from tests.factories import SignatoryFactory

T = QuestionType

# A 1×1 transparent PNG.
PNG_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def pdf_bytes(pages: int = 1) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_upload(name: str = "policy.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def png_upload(name: str = "poster.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def docx_bytes() -> bytes:
    """A minimal Word document: the OOXML package parts a word processor writes first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://'
                         'schemas.openxmlformats.org/package/2006/content-types"/>')
        package.writestr("_rels/.rels", "<Relationships/>")
        package.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


class QuestionnaireFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Questionnaire

    year = 2030
    # the next free version of the year (the data migration already holds 2025 v1)
    version = factory.LazyAttribute(lambda o: (Questionnaire.objects.filter(year=o.year)
                                               .aggregate(v=Max("version"))["v"] or 0) + 1)
    title = factory.LazyAttribute(lambda o: f"Annual report {o.year} v{o.version}")
    is_published = True


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    questionnaire = factory.SubFactory(QuestionnaireFactory)
    criterion = 1
    title = factory.LazyAttribute(lambda o: f"Criterion {o.criterion}")
    order = factory.LazyAttribute(lambda o: o.criterion)


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    section = factory.SubFactory(SectionFactory)
    code = factory.Sequence(lambda n: f"q-{n}")
    text = factory.LazyAttribute(lambda o: f"Question {o.code}?")
    type = T.SHORT_TEXT
    required = True
    order = factory.Sequence(lambda n: n)


CHOICES = [{"value": "web", "label": "Website"}, {"value": "print", "label": "Brochures"},
           {"value": "app", "label": "App"}]

# (criterion, code, type, required, show_if (code, value) or None, extra fields)
DEFAULT_SPEC: list[tuple[int, str, str, bool, tuple[str, str] | None, dict[str, Any]]] = [
    (1, "policy", T.YES_NO, True, None, {}),
    (1, "policy-file", T.FILE, True, ("policy", "yes"), {}),
    (1, "policy-date", T.DATE, False, ("policy", "yes"), {}),
    (2, "trained", T.NUMBER, True, None, {"prefill": "training.customer_facing_trained"}),
    (2, "trained-share", T.PERCENTAGE, False, None,
     {"prefill": "training.customer_facing_share"}),
    (3, "channel", T.SINGLE, True, None, {"choices": CHOICES}),
    (4, "channels", T.MULTIPLE, False, None, {"choices": CHOICES}),
    (5, "activities", T.LONG_TEXT, True, None, {"allows_evidence": True}),
    (6, "public", T.YES_NO, True, None, {}),
    (6, "public-url", T.SHORT_TEXT, True, ("public", "yes"), {}),
    # nested: shown only when public-url is shown and answered "elsewhere"
    (6, "public-where", T.LONG_TEXT, True, ("public-url", "elsewhere"), {}),
]


def make_questionnaire(*, year: int = 2030, version: int | None = None, published: bool = True,
                       spec=None, text_prefix: str = "") -> Questionnaire:
    """A questionnaire with one question of every type, conditionals (one nested) and prefills.

    ``spec`` rows: (criterion, code, type, required, show_if (code, value) | None, extra).
    """
    kwargs: dict[str, Any] = {"year": year, "is_published": published}
    if version is not None:
        kwargs["version"] = version
    questionnaire = QuestionnaireFactory(**kwargs)
    sections: dict[int, Section] = {}
    by_code: dict[str, Question] = {}
    for order, (criterion, code, qtype, required, show_if, extra) in enumerate(
            spec or DEFAULT_SPEC):
        if criterion not in sections:
            sections[criterion] = SectionFactory(questionnaire=questionnaire, criterion=criterion)
        parent, value = show_if or (None, "")
        by_code[code] = QuestionFactory(
            section=sections[criterion], code=code, type=qtype, required=required, order=order,
            text=f"{text_prefix}Question {code}?",
            show_if_question=by_code[parent] if parent else None, show_if_value=value, **extra)
    return questionnaire


def question(report_or_questionnaire, code: str) -> Question:
    qn_id = getattr(report_or_questionnaire, "questionnaire_id", None) or report_or_questionnaire.pk
    return Question.objects.get(section__questionnaire_id=qn_id, code=code)


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    signatory = factory.SubFactory(SignatoryFactory, active=True, status=SignatoryStatus.ACTIVE)
    year = 2030
    questionnaire = factory.LazyAttribute(lambda o: make_questionnaire(year=o.year))
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=90))
    status = ReportStatus.DRAFT

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # `status` is a protected FSM field: set it on a fresh instance before the first save.
        status = kwargs.pop("status", ReportStatus.DRAFT)
        obj = model_class(*args, **kwargs)
        obj.__dict__["status"] = status
        if status != ReportStatus.DRAFT:
            obj.submission_count = obj.submission_count or 1
            obj.submitted_at = obj.submitted_at or timezone.now()
        if status in (ReportStatus.APPROVED, ReportStatus.REJECTED) and not obj.decided_at:
            obj.decided_at = timezone.now()
        obj.save()
        return obj


def set_answers(report: Report, values: dict[str, Any], user=None) -> None:
    """Store already-clean answer values directly (bypassing the service)."""
    for code, value in values.items():
        Answer.objects.update_or_create(report=report, question=question(report, code),
                                        defaults={"value": value, "updated_by": user})


def add_evidence(report: Report, code: str, *, name: str = "evidence.pdf", user=None,
                 content: bytes | None = None) -> Evidence:
    """An evidence row with a stored file, without going through the upload checks."""
    content = content if content is not None else pdf_bytes()
    evidence = Evidence(report=report, question=question(report, code), original_name=name,
                        content_type="application/pdf", size=len(content), sha256="0" * 64,
                        uploaded_by=user)
    evidence.file.save(name, ContentFile(content), save=False)
    evidence.save()
    return evidence


def complete_answers(report: Report, user=None) -> None:
    """Answer every required question of the default spec (and attach the policy)."""
    set_answers(report, {"policy": True, "trained": 12, "channel": "web",
                         "activities": "Workshops with the local ECPAT group.",
                         "public": False}, user=user)
    add_evidence(report, "policy-file", user=user)


def review(report: Report, criterion: int, *, score: str = "partly", comment: str = "",
           round: int | None = None, reviewer=None) -> CriterionReview:
    return CriterionReview.objects.create(
        report=report, round=round or max(report.submission_count, 1), criterion=criterion,
        score=score, comment=comment, reviewer=reviewer)


def anniversary(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)
