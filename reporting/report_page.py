"""What a report page shows: sections with their questions, the answer to each (saved or as
typed), its evidence, whether it is shown, last year's answer, and the reviewer's comments.

Everything is loaded in a fixed number of queries whatever the number of questions or files,
then assembled in Python.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from code_portal.models import AuditEvent
from reporting import answers as answer_rules
from reporting.models import (
    Answer,
    Criterion,
    CriterionReview,
    Evidence,
    Question,
    QuestionType,
    Report,
    ReportStatus,
    Section,
)
from reporting.selectors import previous_report
from reporting.services import report_questions

T = QuestionType

# What each audit action means, for the history table.
ACTION_LABELS = {
    "report.started": gettext_lazy("Report started"),
    "report.answers_saved": gettext_lazy("Answers saved"),
    "report.evidence_added": gettext_lazy("File attached"),
    "report.evidence_deleted": gettext_lazy("File removed"),
    "report.submit": gettext_lazy("Submitted"),
    "report.start_review": gettext_lazy("Review started"),
    "report.assigned": gettext_lazy("Reviewer assigned"),
    "report.request_changes": gettext_lazy("Changes requested"),
    "report.approve": gettext_lazy("Approved"),
    "report.reject": gettext_lazy("Rejected"),
    "report.due_date_moved": gettext_lazy("Due date moved"),
}
# Events about the staff's internal organisation, not shown to the company.
STAFF_ONLY_ACTIONS = {"report.assigned"}


def display_value(question: Question, value: Any) -> str:
    """A saved answer as a person reads it."""
    if answer_rules.is_empty(value):
        return ""
    if question.type == T.YES_NO:
        return _("Yes") if value is True else _("No") if value is False else str(value)
    if question.type in (T.SINGLE, T.MULTIPLE):
        labels = {str(c["value"]): c.get("label", c["value"]) for c in question.choices or []}
        values = value if isinstance(value, list) else [value]
        return ", ".join(str(labels.get(str(v), v)) for v in values)
    if question.type == T.PERCENTAGE:
        return f"{formats.number_format(value)} %"
    if question.type == T.NUMBER:
        return formats.number_format(value)
    if question.type == T.DATE:
        try:
            return formats.date_format(date.fromisoformat(str(value)), "DATE_FORMAT")
        except ValueError:
            return str(value)
    return str(value)


def input_value(question: Question, value: Any) -> Any:
    """A saved answer as the form input shows it ("yes"/"no", a list for checkboxes, text)."""
    if answer_rules.is_empty(value):
        return [] if question.type == T.MULTIPLE else ""
    if question.type == T.YES_NO and isinstance(value, bool):
        return "yes" if value else "no"
    if question.type == T.MULTIPLE:
        return [str(v) for v in (value if isinstance(value, list) else [value])]
    return str(value)


@dataclass
class QuestionRow:
    question: Question
    saved: Any
    shown: Any  # what the input shows: the saved answer, or what the user typed
    visible: bool
    evidence: list[Evidence]
    errors: list[str] = field(default_factory=list)
    previous: str = ""
    previous_evidence: list[Evidence] = field(default_factory=list)
    # On an edit conflict: the answer someone else saved, when it differs from the user's input.
    theirs: str | None = None

    @property
    def code(self) -> str:
        return self.question.code

    @property
    def display(self) -> str:
        return display_value(self.question, self.saved)

    @property
    def takes_files(self) -> bool:
        return self.question.type == T.FILE or self.question.allows_evidence

    @property
    def is_group(self) -> bool:
        """Radios and checkboxes: a fieldset with a legend."""
        return self.question.type in (T.YES_NO, T.SINGLE, T.MULTIPLE)

    @property
    def choices(self) -> list[dict[str, str]]:
        if self.question.type == T.YES_NO:
            return [{"value": "yes", "label": _("Yes")}, {"value": "no", "label": _("No")}]
        return [{"value": str(c["value"]), "label": c.get("label", c["value"])}
                for c in self.question.choices or []]

    @property
    def shown_list(self) -> list[str]:
        if isinstance(self.shown, list):
            return self.shown
        return [self.shown] if self.shown not in ("", None) else []


@dataclass
class SectionBlock:
    section: Section
    rows: list[QuestionRow]
    review: CriterionReview | None = None  # the comment shown to the company
    reviews: list[CriterionReview] = field(default_factory=list)  # every round, for staff

    @property
    def criterion_label(self) -> str:
        return Criterion(self.section.criterion).label

    @property
    def visible_rows(self) -> list[QuestionRow]:
        return [r for r in self.rows if r.visible]


@dataclass
class ReportPage:
    report: Report
    questions: list[Question]
    saved: dict[int, Any]  # question id -> saved value
    sections: list[SectionBlock]
    previous_year: int | None = None  # the year of the report compared with, if any

    def rows(self) -> list[QuestionRow]:
        return [row for block in self.sections for row in block.rows]

    def row(self, code: str) -> QuestionRow | None:
        return next((r for r in self.rows() if r.code == code), None)


def _effective_values(questions: list[Question], saved: dict[int, Any],
                      typed: dict[str, Any] | None) -> dict[int, Any]:
    """Saved answers overlaid with what the user typed (where it is valid), to decide which
    conditional questions to show on a re-rendered form."""
    values = dict(saved)
    for question in questions:
        if typed is None or question.code not in typed:
            continue
        with contextlib.suppress(answer_rules.AnswerError):
            values[question.pk] = answer_rules.clean_value(question, typed[question.code])
    return values


def build_report_page(report: Report, *, typed: dict[str, Any] | None = None,
                      errors: dict[str, list[str]] | None = None,
                      theirs: dict[int, Any] | None = None,
                      with_previous: bool = False, with_reviews: str = "") -> ReportPage:
    """Assemble the page.

    ``typed``: raw answers from a POST to show instead of the saved ones. ``theirs``: on an edit
    conflict, the answers saved meanwhile. ``with_reviews``: "latest" for the company (the last
    round's comments), "all" for staff.
    """
    questions = report_questions(report)
    saved = dict(Answer.objects.filter(report=report).values_list("question_id", "value"))
    evidence: dict[int, list[Evidence]] = {}
    for item in Evidence.objects.filter(report=report).select_related("uploaded_by"):
        evidence.setdefault(item.question_id, []).append(item)
    visible = {q.pk for q in answer_rules.visible_questions(
        questions, _effective_values(questions, saved, typed))}
    errors = errors or {}

    previous_values: dict[str, str] = {}
    previous_files: dict[str, list[Evidence]] = {}
    previous_year = None
    if with_previous:
        last = previous_report(report)
        if last is not None:
            previous_year = last.year
            for answer in Answer.objects.filter(report=last).select_related("question"):
                previous_values[answer.question.code] = display_value(answer.question,
                                                                      answer.value)
            for item in Evidence.objects.filter(report=last).select_related("question"):
                previous_files.setdefault(item.question.code, []).append(item)

    reviews: dict[int, list[CriterionReview]] = {}
    if with_reviews:
        for review in CriterionReview.objects.filter(report=report).select_related("reviewer"):
            reviews.setdefault(review.criterion, []).append(review)

    blocks: dict[int, SectionBlock] = {}
    for question in questions:
        section = question.section
        block = blocks.get(section.pk)
        if block is None:
            block = blocks[section.pk] = SectionBlock(section=section, rows=[])
            rounds = reviews.get(section.criterion, [])
            block.reviews = rounds
            if with_reviews == "latest":
                block.review = next((r for r in rounds if r.round == report.submission_count
                                     and (r.comment or r.score)), None)
        value = saved.get(question.pk)
        shown = (typed[question.code] if typed is not None and question.code in typed
                 else input_value(question, value))
        row = QuestionRow(question=question, saved=value, shown=shown,
                          visible=question.pk in visible, evidence=evidence.get(question.pk, []),
                          errors=errors.get(question.code, []),
                          previous=previous_values.get(question.code, ""),
                          previous_evidence=previous_files.get(question.code, []))
        if theirs is not None and question.pk in theirs:
            row.theirs = display_value(question, theirs[question.pk]) or _("(no answer)")
        block.rows.append(row)
    return ReportPage(report=report, questions=questions, saved=saved,
                      sections=list(blocks.values()), previous_year=previous_year)


def _status_label(value: str) -> str:
    try:
        return str(ReportStatus(value).label)
    except ValueError:
        return value


@dataclass
class HistoryEntry:
    event: AuditEvent
    label: str
    count: int = 1

    @property
    def from_label(self) -> str:
        return _status_label(self.event.from_state)

    @property
    def to_label(self) -> str:
        return _status_label(self.event.to_state)


def report_history(report: Report, *, for_staff: bool, limit: int = 300) -> list[HistoryEntry]:
    """The report's audit events, newest first. Runs of "answers saved" by the same person
    (autosave writes one per change) are folded into one line with a count."""
    events = (AuditEvent.objects
              .filter(content_type=ContentType.objects.get_for_model(Report),
                      object_id=str(report.pk))
              .select_related("actor").order_by("-occurred_at", "-id")[:limit])
    entries: list[HistoryEntry] = []
    for event in events:
        if not for_staff and event.action in STAFF_ONLY_ACTIONS:
            continue
        last = entries[-1] if entries else None
        if (last is not None and event.action == "report.answers_saved"
                and last.event.action == event.action
                and last.event.actor_label == event.actor_label):
            last.count += 1
            continue
        entries.append(HistoryEntry(event=event,
                                    label=str(ACTION_LABELS.get(event.action, event.action))))
    return entries


def latest_reason(history: list[HistoryEntry], action: str) -> str:
    for entry in history:
        if entry.event.action == action:
            return entry.event.reason
    return ""


def changed_by_others_since(report: Report, user, since: datetime | None) -> bool:
    """Whether anyone but ``user`` saved an answer to the report after ``since``."""
    if since is None:
        return True
    return (Answer.objects.filter(report=report, updated_at__gt=since)
            .exclude(updated_by=user).exists())
