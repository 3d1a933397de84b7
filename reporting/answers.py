"""Answer values: validation per question type, conditional visibility, completeness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from reporting.models import Question, QuestionType

T = QuestionType


class AnswerError(ValueError):
    pass


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_value(question: Question, value: Any) -> Any:
    """Normalise a raw value (form or JSON) for the question's type, or raise AnswerError."""
    if is_empty(value):
        return None
    qtype = question.type
    if qtype == T.YES_NO:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"yes", "true", "1", "on"}:
            return True
        if text in {"no", "false", "0"}:
            return False
        raise AnswerError(_("Answer yes or no."))
    if qtype in (T.SINGLE, T.MULTIPLE):
        allowed = {str(c["value"]) for c in question.choices or []}
        values = value if isinstance(value, list) else [value]
        values = [str(v) for v in values]
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise AnswerError(_("Choose one of the options offered."))
        if qtype == T.SINGLE:
            if len(values) != 1:
                raise AnswerError(_("Choose one option."))
            return values[0]
        return sorted(set(values), key=values.index)
    if qtype in (T.NUMBER, T.PERCENTAGE):
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except (InvalidOperation, ValueError) as exc:
            raise AnswerError(_("Enter a number.")) from exc
        if not number.is_finite():
            raise AnswerError(_("Enter a number."))
        if number < 0:
            raise AnswerError(_("Enter a number of zero or more."))
        if qtype == T.PERCENTAGE and number > 100:
            raise AnswerError(_("Enter a percentage between 0 and 100."))
        if number > Decimal("1e12"):
            raise AnswerError(_("This number is too large."))
        return float(number) if number != number.to_integral() else int(number)
    if qtype == T.SHORT_TEXT:
        text = str(value).strip()
        if len(text) > 500:
            raise AnswerError(_("Keep this answer under 500 characters."))
        return text
    if qtype == T.LONG_TEXT:
        text = str(value).strip()
        if len(text) > 20000:
            raise AnswerError(_("Keep this answer under 20,000 characters."))
        return text
    if qtype == T.DATE:
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError as exc:
            raise AnswerError(_("Enter a date as YYYY-MM-DD.")) from exc
    if qtype == T.FILE:
        raise AnswerError(_("Attach a file as evidence for this question."))
    raise AnswerError(_("Unknown question type."))


def _matches(value: Any, expected: str) -> bool:
    if isinstance(value, bool):
        return expected.strip().lower() in ({"yes", "true", "1"} if value else {"no", "false", "0"})
    if isinstance(value, list):
        return expected in [str(v) for v in value]
    return str(value) == expected


def visible_questions(questions: list[Question], values: dict[int, Any]) -> list[Question]:
    """Questions shown given the answers (a hidden parent hides its dependants too)."""
    by_id = {q.pk: q for q in questions}
    shown: dict[int, bool] = {}

    def is_shown(q: Question, depth: int = 0) -> bool:
        if q.pk in shown:
            return shown[q.pk]
        result = True
        if q.show_if_question_id and depth < 20:
            parent = by_id.get(q.show_if_question_id)
            result = bool(parent and is_shown(parent, depth + 1)
                          and not is_empty(values.get(parent.pk))
                          and _matches(values.get(parent.pk), q.show_if_value))
        shown[q.pk] = result
        return result

    return [q for q in questions if is_shown(q)]


@dataclass(frozen=True)
class Missing:
    question: Question
    message: str


def missing_required(questions: list[Question], values: dict[int, Any],
                     evidence_question_ids: set[int]) -> list[Missing]:
    missing = []
    for q in visible_questions(questions, values):
        if not q.required:
            continue
        if q.type == T.FILE:
            if q.pk not in evidence_question_ids:
                missing.append(Missing(q, _("Attach at least one file.")))
        elif is_empty(values.get(q.pk)):
            missing.append(Missing(q, _("This question needs an answer.")))
    return missing
