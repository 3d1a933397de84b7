"""Forms for the annual report pages.

The answers themselves are not a Django form: each question is validated by
``reporting.answers.clean_value`` inside ``report_save_answers`` (one rule set for the page and
the API), so the page only reads the raw values out of the POST data.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from code_portal.models import StaffRole, User
from reporting.models import Criterion, Question, QuestionType, Score
from reporting.services import EVIDENCE_MAX_BYTES

# What the file inputs accept (a hint for the browser; the server checks the content).
EVIDENCE_ACCEPT = (".pdf,.png,.jpg,.jpeg,.gif,.webp,.docx,.xlsx,.pptx,.odt,.ods,.odp,.doc,.xls,"
                   ".ppt")
EVIDENCE_MAX_MB = EVIDENCE_MAX_BYTES // (1024 * 1024)


def evidence_field_name(question: Question) -> str:
    return f"evidence-{question.code}"


def raw_answers(questions: list[Question], data: QueryDict) -> dict[str, Any]:
    """The raw answer of every non-file question, as typed.

    Every question is included, even when absent from the POST: an unticked set of checkboxes
    or radios sends nothing, and that must clear the saved answer rather than keep it.
    """
    values: dict[str, Any] = {}
    for question in questions:
        if question.type == QuestionType.FILE:
            continue
        if question.type == QuestionType.MULTIPLE:
            values[question.code] = [v for v in data.getlist(question.code) if v != ""]
        else:
            values[question.code] = data.get(question.code, "")
    return values


class StartReportForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Reporting year"), coerce=int, choices=())

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]


def reviewer_choices(signatory) -> list[User]:
    """Code staff who may review this signatory's reports: central staff, and the local
    representatives of its country."""
    people = User.objects.filter(is_active=True).exclude(staff_role="").order_by("full_name",
                                                                                 "email")
    return [u for u in people
            if u.staff_role in (StaffRole.ADMIN, StaffRole.REVIEWER)
            or signatory.country.code in {c.code for c in u.staff_countries}]


class AssignForm(forms.Form):
    reviewer = forms.TypedChoiceField(label=_("Reviewer"), required=False, coerce=int,
                                      empty_value=None)

    def __init__(self, *args, signatory, **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {u.pk: u for u in reviewer_choices(signatory)}
        self.fields["reviewer"].choices = [("", _("Nobody (unassigned)"))] + [
            (pk, f"{u.full_name or u.email} ({u.get_staff_role_display()})")
            for pk, u in self.people.items()]

    def clean_reviewer(self) -> User | None:
        pk = self.cleaned_data["reviewer"]
        return self.people.get(pk) if pk is not None else None


class DueDateForm(forms.Form):
    due_on = forms.DateField(label=_("New due date"),
                             widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reason = forms.CharField(label=_("Reason for the change"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


SCORE_CHOICES = [("", _("Not scored"))] + list(Score.choices)


class ReviewForm(forms.Form):
    """The reviewer's scores and comments per criterion, and the decision."""

    DECISIONS = ("save", "request_changes", "approve", "reject")

    overall_score = forms.ChoiceField(label=_("Overall score"), choices=SCORE_CHOICES,
                                      required=False)
    reason = forms.CharField(
        label=_("Message to the company / reason for the decision"), required=False,
        max_length=10000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to reject. To request changes, write here or comment on a "
                    "criterion."))
    decision = forms.ChoiceField(choices=[(d, d) for d in DECISIONS], initial="save")

    def __init__(self, *args, criteria: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for number in criteria:
            label = Criterion(number).label
            self.fields[f"score-{number}"] = forms.ChoiceField(
                label=_("Score for %(criterion)s") % {"criterion": label},
                choices=SCORE_CHOICES, required=False, widget=forms.RadioSelect)
            self.fields[f"comment-{number}"] = forms.CharField(
                label=_("Comment on %(criterion)s") % {"criterion": label}, required=False,
                max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))

    def criterion_fields(self) -> list[tuple[int, str, forms.BoundField, forms.BoundField]]:
        return [(n, Criterion(n).label, self[f"score-{n}"], self[f"comment-{n}"])
                for n in self.criteria]
