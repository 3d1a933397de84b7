"""The annual-report services: who may do what, in which state, what is recorded, and the rules
of the yearly cycle (version pinning, edit conflicts, prefill, due dates, evidence checks)."""

import hashlib
import io
import os
import zipfile
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils import timezone

from code_portal.errors import DomainError
from code_portal.models import AuditEvent
from reporting import services
from reporting.models import (
    Answer,
    CriterionReview,
    Evidence,
    Question,
    Questionnaire,
    Report,
    ReportStatus,
)
from signatories.models import MembershipRole, SignatoryStatus
from tests.factories import MembershipFactory, SignatoryFactory
from tests.reporting.factories import (
    PNG_BYTES,
    ReportFactory,
    add_evidence,
    complete_answers,
    docx_bytes,
    make_questionnaire,
    pdf_bytes,
    pdf_upload,
    png_upload,
    question,
    review,
    set_answers,
)

pytestmark = pytest.mark.django_db
S = ReportStatus

COMPANY_EDITORS = ["company_admin", "reporter"]
NOT_EDITORS = ["viewer", "outsider", "staff_reviewer", "staff_admin", "local_rep_sweden",
               "local_rep_other_country"]
CENTRAL_STAFF = ["staff_reviewer", "staff_admin"]
NOT_DECIDERS = ["company_admin", "reporter", "viewer", "outsider", "local_rep_sweden",
                "local_rep_other_country"]
REVIEWERS = ["staff_reviewer", "staff_admin", "local_rep_sweden"]
NOT_REVIEWERS = ["company_admin", "reporter", "viewer", "outsider", "local_rep_other_country"]


@pytest.fixture
def person(request):
    return lambda name: request.getfixturevalue(name)


@pytest.fixture
def report(company_a):
    return ReportFactory(signatory=company_a)


def report_in(status, company_a, **kwargs):
    return ReportFactory(signatory=company_a, status=status, **kwargs)


def events(report, action=None):
    qs = AuditEvent.objects.filter(object_id=str(report.pk), action__startswith="report.")
    return qs.filter(action=action) if action else qs


# --- starting a report ----------------------------------------------------------------------

@pytest.mark.parametrize("role", COMPANY_EDITORS)
def test_company_editors_start_the_years_report_pinned_to_the_current_questionnaire(
        role, person, company_a):
    v1 = make_questionnaire(year=2030)
    report = services.report_start(actor=person(role), signatory=company_a, year=2031)
    assert report.status == S.DRAFT
    assert report.questionnaire == v1
    assert events(report, "report.started").get().actor == person(role)


@pytest.mark.parametrize("role", NOT_EDITORS)
def test_others_cannot_start_a_companys_report(role, person, company_a):
    make_questionnaire(year=2030)
    with pytest.raises(PermissionDenied):
        services.report_start(actor=person(role), signatory=company_a, year=2030)
    assert not Report.objects.exists()


def test_starting_twice_opens_the_same_report(reporter, company_a):
    make_questionnaire(year=2030)
    first = services.report_start(actor=reporter, signatory=company_a, year=2030)
    again = services.report_start(actor=reporter, signatory=company_a, year=2030)
    assert first.pk == again.pk
    assert Report.objects.count() == 1


def test_starting_at_the_same_moment_as_a_colleague_opens_their_report(reporter, company_admin,
                                                                     company_a, monkeypatch):
    make_questionnaire(year=2030)
    theirs = services.report_start(actor=company_admin, signatory=company_a, year=2030)
    # this request looked before the colleague's insert was committed: it saw no report
    monkeypatch.setattr(services, "_existing_report", lambda signatory, year: None)
    mine = services.report_start(actor=reporter, signatory=company_a, year=2030)
    assert mine.pk == theirs.pk
    assert Report.objects.filter(signatory=company_a, year=2030).count() == 1
    assert events(theirs, "report.started").count() == 1


def test_an_applicant_that_has_not_signed_cannot_start_a_report(db):
    applicant = SignatoryFactory(status=SignatoryStatus.APPLIED)
    admin = MembershipFactory(signatory=applicant, role=MembershipRole.ADMIN).user
    with pytest.raises(DomainError, match="Only signed members report"):
        services.report_start(actor=admin, signatory=applicant, year=2025)


def test_a_year_without_a_published_questionnaire_cannot_be_started(reporter, company_a):
    make_questionnaire(year=2030, published=False)
    with pytest.raises(DomainError, match="no published questionnaire for 2020"):
        services.report_start(actor=reporter, signatory=company_a, year=2020)


# --- version pinning -------------------------------------------------------------------------

def test_a_report_keeps_the_questions_it_started_with_after_a_new_version_is_published(
        reporter, company_a, company_b, outsider):
    v1 = make_questionnaire(year=2030, text_prefix="Old wording: ")
    old_report = services.report_start(actor=reporter, signatory=company_a, year=2030)
    v2 = make_questionnaire(year=2030, text_prefix="New wording: ", spec=[
        (1, "policy", "yes_no", True, None, {}),
        (1, "policy-new", "long_text", True, None, {}),
    ])
    assert v2.version == v1.version + 1

    old_report.refresh_from_db()
    assert old_report.questionnaire == v1
    texts = [q.text for q in services.report_questions(old_report)]
    assert texts and all(t.startswith("Old wording: ") for t in texts)
    assert "policy-new" not in [m.question.code for m in services.report_missing(old_report)]
    # a question of the newer version is not part of the old report
    _, errors = services.report_save_answers(actor=reporter, report=old_report,
                                             values={"policy-new": "x"}, expected_version=1)
    assert errors == {"policy-new": "Unknown question."}

    new_report = services.report_start(actor=outsider, signatory=company_b, year=2030)
    assert new_report.questionnaire == v2


# --- saving answers and edit conflicts -------------------------------------------------------

def test_valid_answers_are_saved_and_invalid_ones_come_back_as_errors(reporter, report):
    report, errors = services.report_save_answers(
        actor=reporter, report=report, expected_version=1,
        values={"policy": "yes", "trained": "a dozen", "channel": "web"})
    assert errors == {"trained": "Enter a number."}
    saved = dict(Answer.objects.filter(report=report).values_list("question__code", "value"))
    assert saved == {"policy": True, "channel": "web"}
    assert report.version == 2
    assert events(report, "report.answers_saved").get().actor == reporter


def test_a_save_from_a_stale_copy_is_refused_and_does_not_overwrite(reporter, company_admin,
                                                                    report):
    services.report_save_answers(actor=reporter, report=report, expected_version=1,
                                 values={"activities": "Reporter's text"})
    with pytest.raises(services.EditConflict):
        services.report_save_answers(actor=company_admin, report=report, expected_version=1,
                                     values={"activities": "Admin's older text"})
    answer = Answer.objects.get(report=report, question__code="activities")
    assert (answer.value, answer.updated_by) == ("Reporter's text", reporter)
    report.refresh_from_db()
    assert report.version == 2
    # reloading gives the current version, with which the save goes through
    services.report_save_answers(actor=company_admin, report=report, expected_version=2,
                                 values={"activities": "Merged text"})
    answer.refresh_from_db()
    assert answer.value == "Merged text"


@pytest.mark.parametrize("role", NOT_EDITORS)
def test_only_company_editors_save_answers(role, person, report):
    with pytest.raises(PermissionDenied):
        services.report_save_answers(actor=person(role), report=report, expected_version=1,
                                     values={"policy": "yes"})
    assert not Answer.objects.filter(report=report).exists()


@pytest.mark.parametrize("status", [S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED, S.REJECTED])
def test_a_submitted_report_is_read_only_for_the_company(status, reporter, company_a):
    report = report_in(status, company_a)
    with pytest.raises(DomainError, match="can no longer be edited"):
        services.report_save_answers(actor=reporter, report=report, expected_version=1,
                                     values={"policy": "yes"})
    with pytest.raises(DomainError, match="can no longer be edited"):
        services.evidence_add(actor=reporter, report=report,
                              question=question(report, "policy-file"), upload=pdf_upload())
    assert not Answer.objects.filter(report=report).exists()


def test_answers_can_be_changed_again_when_changes_are_requested(reporter, company_a):
    report = report_in(S.CHANGES_REQUESTED, company_a)
    report, errors = services.report_save_answers(actor=reporter, report=report,
                                                  expected_version=1, values={"policy": "no"})
    assert errors == {}
    assert Answer.objects.get(report=report, question__code="policy").value is False


# --- prefill ---------------------------------------------------------------------------------

def test_a_new_report_is_prefilled_from_the_training_log(reporter, company_a):
    from tests.training.factories import (
        CourseFactory,
        HeadcountFactory,
        RecordFactory,
        TraineeFactory,
    )

    year = timezone.localdate().year - 1  # a closed year: coverage as of 31 December
    course = CourseFactory(validity_months=None)
    for customer_facing in (True, True, True, False):
        RecordFactory(trainee=TraineeFactory(signatory=company_a,
                                             is_customer_facing=customer_facing),
                      course=course, completed_on=date(year, 5, 1))
    TraineeFactory(signatory=company_a, is_customer_facing=True)  # not trained
    HeadcountFactory(signatory=company_a, year=year, employees=20, customer_facing_employees=6)
    make_questionnaire(year=year)

    report = services.report_start(actor=reporter, signatory=company_a, year=year)

    saved = dict(Answer.objects.filter(report=report).values_list("question__code", "value"))
    assert saved == {"trained": 3, "trained-share": 50.0}


def test_trained_this_year_counts_completions_of_the_year_not_older_valid_training(
        reporter, company_a):
    from reporting.models import QuestionType
    from tests.training.factories import CourseFactory, RecordFactory, TraineeFactory

    year = timezone.localdate().year - 1
    course = CourseFactory(validity_months=None)  # older training is still valid
    this_year = TraineeFactory(signatory=company_a, is_customer_facing=True)
    RecordFactory(trainee=this_year, course=course, completed_on=date(year, 3, 1))
    RecordFactory(trainee=this_year, course=course, completed_on=date(year, 9, 1))  # counted once
    earlier = TraineeFactory(signatory=company_a, is_customer_facing=True)
    RecordFactory(trainee=earlier, course=course, completed_on=date(year - 1, 6, 1))
    next_year = TraineeFactory(signatory=company_a, is_customer_facing=True)
    RecordFactory(trainee=next_year, course=course, completed_on=date(year + 1, 1, 2))
    back_office = TraineeFactory(signatory=company_a, is_customer_facing=False)
    RecordFactory(trainee=back_office, course=course, completed_on=date(year, 5, 1))
    make_questionnaire(year=year, spec=[
        (2, "in-year", QuestionType.NUMBER, True, None,
         {"prefill": "training.customer_facing_trained_in_year"}),
        (2, "valid", QuestionType.NUMBER, True, None,
         {"prefill": "training.customer_facing_trained"}),
    ])
    report = services.report_start(actor=reporter, signatory=company_a, year=year)
    saved = dict(Answer.objects.filter(report=report).values_list("question__code", "value"))
    assert saved == {"in-year": 1, "valid": 2}


def test_the_default_questionnaire_prefills_trained_this_year_from_the_training_log(db):
    asked = Question.objects.get(section__questionnaire__year=2025,
                                 section__questionnaire__version=1, code="training-cf-trained")
    assert asked.text == "How many customer-facing employees were trained this year?"
    assert asked.prefill == "training.customer_facing_trained_in_year"


def test_without_a_headcount_the_share_is_left_empty_not_invented(reporter, company_a):
    year = timezone.localdate().year - 1
    make_questionnaire(year=year)
    report = services.report_start(actor=reporter, signatory=company_a, year=year)
    saved = dict(Answer.objects.filter(report=report).values_list("question__code", "value"))
    assert saved == {"trained": 0}


# --- due dates -------------------------------------------------------------------------------

@pytest.mark.parametrize(("signed", "year", "due"), [
    (date(2024, 3, 15), 2024, date(2025, 3, 15)),  # twelve months after signing
    (date(2024, 3, 15), 2026, date(2027, 3, 15)),  # then each anniversary
    (date(2024, 2, 29), 2024, date(2025, 2, 28)),  # no 29 February next year
])
def test_the_default_due_date_is_the_anniversary_of_signing(signed, year, due, db):
    signatory = SignatoryFactory(status=SignatoryStatus.ACTIVE, active=True, member_since=signed)
    assert services.default_due_date(signatory, year) == due


def test_a_deadline_set_by_staff_on_the_signatory_wins(db):
    signatory = SignatoryFactory(status=SignatoryStatus.ACTIVE, active=True,
                                 member_since=date(2024, 3, 15),
                                 reporting_deadline=date(2025, 6, 30))
    assert services.default_due_date(signatory, 2024) == date(2025, 6, 30)
    assert services.default_due_date(signatory, 2025) == date(2026, 3, 15)


def test_a_started_report_gets_the_default_due_date(reporter, company_a):
    company_a.member_since = date(2024, 3, 15)
    company_a.save()
    make_questionnaire(year=2030)
    report = services.report_start(actor=reporter, signatory=company_a, year=2030)
    assert report.due_on == date(2031, 3, 15)


@pytest.mark.parametrize("role", CENTRAL_STAFF)
def test_central_staff_move_the_due_date_with_a_reason(role, person, report):
    before = report.due_on
    new = before + timedelta(days=45)
    report = services.report_set_due_date(actor=person(role), report=report, due_on=new,
                                          reason="Company merger")
    assert report.due_on == new
    event = events(report, "report.due_date_moved").get()
    assert (event.actor, event.reason) == (person(role), "Company merger")
    assert event.changes["due_on"] == {"from": str(before), "to": str(new)}


@pytest.mark.parametrize("role", NOT_DECIDERS)
def test_others_cannot_move_the_due_date(role, person, report):
    before = report.due_on
    with pytest.raises(PermissionDenied):
        services.report_set_due_date(actor=person(role), report=report,
                                     due_on=before + timedelta(days=1), reason="Please")
    report.refresh_from_db()
    assert report.due_on == before


def test_moving_the_due_date_needs_a_reason(staff_admin, report):
    with pytest.raises(DomainError, match="reason"):
        services.report_set_due_date(actor=staff_admin, report=report,
                                     due_on=date(2031, 1, 1), reason=" ")


# --- submitting ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", COMPANY_EDITORS)
@pytest.mark.parametrize("status", [S.DRAFT, S.CHANGES_REQUESTED])
def test_company_editors_submit_a_complete_report(role, status, person, company_a,
                                                  django_capture_on_commit_callbacks):
    report = report_in(status, company_a, submission_count=1 if status != S.DRAFT else 0)
    complete_answers(report)
    with django_capture_on_commit_callbacks(execute=True):
        report = services.report_submit(actor=person(role), report=report)
    assert report.status == S.SUBMITTED
    assert report.submission_count == (2 if status == S.CHANGES_REQUESTED else 1)
    assert report.submitted_at is not None
    event = events(report, "report.submit").get()
    assert (event.actor, event.from_state, event.to_state) == (person(role), status, S.SUBMITTED)
    assert len(mail.outbox) >= 1


@pytest.mark.parametrize("role", NOT_EDITORS)
def test_others_cannot_submit(role, person, company_a):
    report = report_in(S.DRAFT, company_a)
    complete_answers(report)
    with pytest.raises(PermissionDenied):
        services.report_submit(actor=person(role), report=report)
    report.refresh_from_db()
    assert report.status == S.DRAFT


@pytest.mark.parametrize("status", [S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED, S.REJECTED])
def test_a_report_cannot_be_submitted_again_from(status, reporter, company_a):
    report = report_in(status, company_a)
    complete_answers(report)
    with pytest.raises(DomainError, match="cannot be changed this way"):
        services.report_submit(actor=reporter, report=report)
    report.refresh_from_db()
    assert report.status == status
    assert not events(report).exists()


def test_submitting_with_missing_answers_lists_what_is_missing(reporter, report):
    set_answers(report, {"policy": True, "public": True})
    with pytest.raises(services.MissingAnswers) as exc:
        services.report_submit(actor=reporter, report=report)
    assert [(m.question.code, m.message) for m in exc.value.missing] == [
        ("policy-file", "Attach at least one file."),
        ("trained", "This question needs an answer."),
        ("channel", "This question needs an answer."),
        ("activities", "This question needs an answer."),
        ("public-url", "This question needs an answer."),
    ]
    report.refresh_from_db()
    assert report.status == S.DRAFT


# --- staff: assign, review, decide -----------------------------------------------------------

@pytest.mark.parametrize("role", CENTRAL_STAFF)
def test_central_staff_assign_a_reviewer_which_starts_the_review(role, person, staff_reviewer,
                                                                  company_a):
    report = report_in(S.SUBMITTED, company_a)
    report = services.report_assign(actor=person(role), report=report, reviewer=staff_reviewer)
    assert report.reviewer == staff_reviewer
    assert report.status == S.UNDER_REVIEW
    assert events(report, "report.assigned").get().actor == person(role)
    start = events(report, "report.start_review").get()
    assert (start.from_state, start.to_state) == (S.SUBMITTED, S.UNDER_REVIEW)


def test_a_local_representative_of_the_country_may_be_assigned(staff_admin, local_rep_sweden,
                                                               company_a):
    report = report_in(S.SUBMITTED, company_a)
    report = services.report_assign(actor=staff_admin, report=report,
                                    reviewer=local_rep_sweden)
    assert report.reviewer == local_rep_sweden


def test_a_reviewer_who_cannot_see_the_signatory_cannot_be_assigned(
        staff_admin, local_rep_other_country, company_a):
    report = report_in(S.SUBMITTED, company_a)
    with pytest.raises(DomainError) as exc:
        services.report_assign(actor=staff_admin, report=report,
                               reviewer=local_rep_other_country)
    assert exc.value.field == "reviewer"
    report.refresh_from_db()
    assert report.reviewer is None


@pytest.mark.parametrize("role", NOT_DECIDERS)
def test_others_cannot_assign(role, person, staff_reviewer, company_a):
    report = report_in(S.SUBMITTED, company_a)
    with pytest.raises(PermissionDenied):
        services.report_assign(actor=person(role), report=report, reviewer=staff_reviewer)


@pytest.mark.parametrize("role", REVIEWERS)
def test_reviewers_score_and_comment_a_criterion(role, person, company_a):
    report = report_in(S.SUBMITTED, company_a)
    item = services.report_review_criterion(actor=person(role), report=report, criterion=3,
                                            score="partly", comment="  Clause missing  ")
    assert (item.round, item.criterion, item.score, item.comment) == (1, 3, "partly",
                                                                       "Clause missing")
    report.refresh_from_db()
    assert report.status == S.UNDER_REVIEW
    # a second save of the same criterion in the same round updates it
    services.report_review_criterion(actor=person(role), report=report, criterion=3,
                                     score="met", comment="Fine now")
    assert CriterionReview.objects.get(report=report).score == "met"


@pytest.mark.parametrize("role", NOT_REVIEWERS)
def test_others_cannot_review(role, person, company_a):
    report = report_in(S.SUBMITTED, company_a)
    with pytest.raises(PermissionDenied):
        services.report_review_criterion(actor=person(role), report=report, criterion=1,
                                         score="met", comment="")
    assert not CriterionReview.objects.exists()


@pytest.mark.parametrize("status", [S.DRAFT, S.CHANGES_REQUESTED, S.APPROVED, S.REJECTED])
def test_only_a_submitted_report_can_be_reviewed(status, staff_reviewer, company_a):
    report = report_in(status, company_a)
    with pytest.raises(DomainError, match="Only a submitted report"):
        services.report_review_criterion(actor=staff_reviewer, report=report, criterion=1,
                                         score="met", comment="")


@pytest.mark.parametrize(("criterion", "score"), [(7, "met"), (1, "excellent")])
def test_unknown_criteria_and_scores_are_refused(criterion, score, staff_reviewer, company_a):
    report = report_in(S.SUBMITTED, company_a)
    with pytest.raises(DomainError):
        services.report_review_criterion(actor=staff_reviewer, report=report,
                                         criterion=criterion, score=score, comment="")


DECISIONS = {
    "request_changes": (services.report_request_changes, S.CHANGES_REQUESTED,
                        {"reason": "Attach the signed policy"}),
    "approve": (services.report_approve, S.APPROVED, {"overall_score": "met", "reason": ""}),
    "reject": (services.report_reject, S.REJECTED, {"reason": "No evidence at all"}),
}


@pytest.mark.parametrize("decision", DECISIONS)
@pytest.mark.parametrize("role", CENTRAL_STAFF)
@pytest.mark.parametrize("status", [S.SUBMITTED, S.UNDER_REVIEW])
def test_central_staff_decide_a_submitted_report(decision, role, status, person, company_a,
                                                 django_capture_on_commit_callbacks):
    service, target, kwargs = DECISIONS[decision]
    report = report_in(status, company_a)
    with django_capture_on_commit_callbacks(execute=True):
        report = service(actor=person(role), report=report, **kwargs)
    assert report.status == target
    event = events(report, f"report.{decision}").get()
    assert (event.actor, event.from_state, event.to_state, event.reason) == (
        person(role), status, target, kwargs["reason"])


@pytest.mark.parametrize("decision", DECISIONS)
@pytest.mark.parametrize("role", NOT_DECIDERS)
def test_others_cannot_decide(decision, role, person, company_a):
    service, _target, kwargs = DECISIONS[decision]
    report = report_in(S.UNDER_REVIEW, company_a)
    with pytest.raises(PermissionDenied):
        service(actor=person(role), report=report, **kwargs)
    report.refresh_from_db()
    assert report.status == S.UNDER_REVIEW
    assert not events(report).exists()


@pytest.mark.parametrize("decision", DECISIONS)
@pytest.mark.parametrize("status", [S.DRAFT, S.CHANGES_REQUESTED, S.APPROVED, S.REJECTED])
def test_decisions_are_refused_outside_review(decision, status, staff_admin, company_a):
    service, _target, kwargs = DECISIONS[decision]
    report = report_in(status, company_a)
    with pytest.raises(DomainError, match="cannot be changed this way"):
        service(actor=staff_admin, report=report, **kwargs)
    report.refresh_from_db()
    assert report.status == status


def test_requesting_changes_needs_a_comment_or_a_reason(staff_reviewer, company_a):
    report = report_in(S.UNDER_REVIEW, company_a)
    with pytest.raises(DomainError, match="Say what needs to change"):
        services.report_request_changes(actor=staff_reviewer, report=report, reason="")
    review(report, 2, comment="Training records are from 2019.")
    report = services.report_request_changes(actor=staff_reviewer, report=report, reason="")
    assert report.status == S.CHANGES_REQUESTED


def test_rejecting_needs_a_reason(staff_reviewer, company_a):
    report = report_in(S.UNDER_REVIEW, company_a)
    with pytest.raises(DomainError, match="reason"):
        services.report_reject(actor=staff_reviewer, report=report, reason="  ")


@pytest.mark.parametrize("role", REVIEWERS)
def test_reviewers_keep_an_overall_score_while_the_review_goes_on(role, person, company_a):
    report = report_in(S.SUBMITTED, company_a)
    report = services.report_score_overall(actor=person(role), report=report, score="partly")
    assert (report.status, report.overall_score) == (S.UNDER_REVIEW, "partly")
    with pytest.raises(DomainError, match="met, partly met or not met"):
        services.report_score_overall(actor=person(role), report=report, score="stellar")


@pytest.mark.parametrize("role", NOT_REVIEWERS)
def test_others_cannot_give_an_overall_score(role, person, company_a):
    report = report_in(S.SUBMITTED, company_a)
    with pytest.raises(PermissionDenied):
        services.report_score_overall(actor=person(role), report=report, score="met")
    report.refresh_from_db()
    assert report.overall_score == ""


@pytest.mark.parametrize("status", [S.DRAFT, S.CHANGES_REQUESTED, S.APPROVED, S.REJECTED])
def test_an_overall_score_is_given_only_during_the_review(status, staff_reviewer, company_a):
    report = report_in(status, company_a)
    with pytest.raises(DomainError, match="Only a submitted report"):
        services.report_score_overall(actor=staff_reviewer, report=report, score="met")


@pytest.mark.parametrize("decision", DECISIONS)
def test_every_decision_keeps_the_overall_score_saved_during_the_review_or_sets_it(
        decision, staff_reviewer, company_a):
    service, target, kwargs = DECISIONS[decision]
    kwargs = {**kwargs, "reason": kwargs["reason"] or "Decided"}
    kept = report_in(S.UNDER_REVIEW, company_a, year=2030)
    services.report_score_overall(actor=staff_reviewer, report=kept, score="partly")
    kwargs.pop("overall_score", None)
    kept = service(actor=staff_reviewer, report=kept, **kwargs)
    assert (kept.status, kept.overall_score) == (target, "partly")

    given = report_in(S.UNDER_REVIEW, company_a, year=2031)
    given = service(actor=staff_reviewer, report=given, overall_score="not_met", **kwargs)
    assert (given.status, given.overall_score) == (target, "not_met")
    assert events(given, f"report.{decision}").get().changes["overall_score"] == {
        "from": "", "to": "not_met"}
    with pytest.raises(DomainError, match="met, partly met or not met"):
        service(actor=staff_reviewer, report=report_in(S.UNDER_REVIEW, company_a, year=2032),
                overall_score="stellar", **kwargs)


def test_a_request_for_changes_records_the_criterion_comments_it_sends_back(
        staff_reviewer, company_a):
    report = report_in(S.UNDER_REVIEW, company_a, submission_count=1)
    services.report_review_criterion(actor=staff_reviewer, report=report, criterion=1,
                                     score="not_met", comment="The policy is not signed.")
    services.report_review_criterion(actor=staff_reviewer, report=report, criterion=2,
                                     score="met", comment="")
    services.report_request_changes(actor=staff_reviewer, report=report, reason="")
    event = events(report, "report.request_changes").get()
    assert (event.actor, event.from_state, event.to_state) == (staff_reviewer, S.UNDER_REVIEW,
                                                               S.CHANGES_REQUESTED)
    assert event.changes["criteria"] == {"to": {
        "1": {"score": "not_met", "comment": "The policy is not signed."},
        "2": {"score": "met", "comment": ""}}}


def test_approval_records_the_decision_and_enqueues_the_certificate_task_on_commit(
        staff_reviewer, company_a, company_admin, reporter, viewer,
        django_capture_on_commit_callbacks):
    report = report_in(S.UNDER_REVIEW, company_a)
    with mock.patch("reporting.tasks.report_approved.delay") as delay, \
            django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.report_approve(actor=staff_reviewer, report=report, overall_score="partly",
                                reason="Good progress")
        delay.assert_not_called()  # nothing leaves before the decision is committed
    assert len(callbacks) == 1
    with mock.patch("reporting.tasks.report_approved.delay") as delay:
        callbacks[0]()
    delay.assert_called_once_with(report.pk)
    report.refresh_from_db()
    assert (report.status, report.overall_score, report.decision_reason) == (
        S.APPROVED, "partly", "Good progress")
    assert report.decided_at is not None


def test_approval_emails_the_companys_admins_and_reporters(
        staff_reviewer, company_a, company_admin, reporter, viewer,
        django_capture_on_commit_callbacks):
    report = report_in(S.UNDER_REVIEW, company_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.report_approve(actor=staff_reviewer, report=report)
    recipients = sorted(addr for message in mail.outbox for addr in message.to)
    assert recipients == sorted([company_admin.email, reporter.email])
    for message in mail.outbox:
        assert "approved" in message.subject.lower() and "2030" in message.subject


def test_no_task_runs_when_the_approval_is_rolled_back(staff_reviewer, company_a):
    from django.db import transaction

    report = report_in(S.UNDER_REVIEW, company_a)
    with mock.patch("reporting.tasks.report_approved.delay") as delay:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.report_approve(actor=staff_reviewer, report=report)
            raise RuntimeError("something later in the same request failed")
        delay.assert_not_called()
    report.refresh_from_db()
    assert report.status == S.UNDER_REVIEW


def test_every_state_change_of_a_full_cycle_is_recorded(reporter, staff_reviewer, staff_admin,
                                                        report):
    complete_answers(report)
    services.report_submit(actor=reporter, report=report)
    services.report_assign(actor=staff_admin, report=report, reviewer=staff_reviewer)
    services.report_review_criterion(actor=staff_reviewer, report=report, criterion=1,
                                     score="not_met", comment="Policy unsigned")
    services.report_request_changes(actor=staff_reviewer, report=report, reason="See C1")
    report.refresh_from_db()
    services.report_save_answers(actor=reporter, report=report, expected_version=report.version,
                                 values={"activities": "Signed and published"})
    services.report_submit(actor=reporter, report=report)
    services.report_review_criterion(actor=staff_reviewer, report=report, criterion=1,
                                     score="met", comment="")
    services.report_approve(actor=staff_reviewer, report=report, overall_score="met")

    transitions = list(events(report).exclude(from_state="", to_state="")
                       .order_by("occurred_at", "id")
                       .values_list("action", "from_state", "to_state", "actor__email"))
    assert transitions == [
        ("report.submit", S.DRAFT, S.SUBMITTED, reporter.email),
        ("report.start_review", S.SUBMITTED, S.UNDER_REVIEW, staff_admin.email),
        ("report.request_changes", S.UNDER_REVIEW, S.CHANGES_REQUESTED, staff_reviewer.email),
        ("report.submit", S.CHANGES_REQUESTED, S.SUBMITTED, reporter.email),
        ("report.start_review", S.SUBMITTED, S.UNDER_REVIEW, staff_reviewer.email),
        ("report.approve", S.UNDER_REVIEW, S.APPROVED, staff_reviewer.email),
    ]
    # each submission round keeps its own reviews
    assert list(CriterionReview.objects.filter(report=report).order_by("round")
                .values_list("round", "score")) == [(1, "not_met"), (2, "met")]


# --- evidence --------------------------------------------------------------------------------

def test_evidence_is_stored_privately_with_checksum_size_uploader_and_time(reporter, report):
    content = pdf_bytes()
    evidence = services.evidence_add(
        actor=reporter, report=report, question=question(report, "policy-file"),
        upload=SimpleUploadedFile("Child protection policy.pdf", content))
    assert evidence.original_name == "Child protection policy.pdf"
    assert evidence.content_type == "application/pdf"
    assert evidence.size == len(content)
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence.uploaded_by == reporter
    assert evidence.uploaded_at is not None
    assert Path(evidence.file.path).read_bytes() == content
    # outside the public static/media URL space that a web server would serve
    assert not evidence.file.name.startswith(("static/", "/"))
    assert events(report, "report.evidence_added").get().changes["sha256"] == {
        "to": evidence.sha256}


@pytest.mark.parametrize("upload", [png_upload, lambda: SimpleUploadedFile(
    "training.docx", docx_bytes())], ids=["image", "office"])
def test_images_and_office_documents_are_accepted(upload, reporter, report):
    evidence = services.evidence_add(actor=reporter, report=report,
                                     question=question(report, "activities"), upload=upload())
    assert evidence.pk


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            # a fixed date: the bytes are part of the test id, which every xdist process must
            # compute alike
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("policy.pdf", PNG_BYTES, "does not match its name"),  # an image renamed to .pdf
    ("policy.pdf", b"MZ\x90\x00" + b"\x00" * 300, "does not match its name"),  # a program
    ("policy.pdf", b"%PDF-1.7\n this is not really a PDF", "cannot be opened"),
    ("policy.pdf", b"", "The file is empty."),
    ("policy.docx", zip_bytes({"setup.exe": b"MZ" + b"\x00" * 100}), "does not match its name"),
    ("policy.odt", zip_bytes({"notes.txt": b"just a zip"}), "does not match its name"),
    ("policy.docx", b"PK\x03\x04" + b"\x00" * 200, "does not match its name"),
    ("policy.exe", pdf_bytes(), "are not accepted"),
    ("policy.html", b"<html><script>alert(1)</script></html>", "are not accepted"),
])
def test_files_that_are_not_what_they_claim_are_refused(name, content, message, reporter,
                                                        report):
    with pytest.raises(DomainError, match=message) as exc:
        services.evidence_add(actor=reporter, report=report,
                              question=question(report, "policy-file"),
                              upload=SimpleUploadedFile(name, content))
    assert exc.value.field == "file"
    assert not Evidence.objects.exists()


def test_a_file_over_the_limit_is_refused(reporter, report, monkeypatch):
    monkeypatch.setattr(services, "EVIDENCE_MAX_BYTES", 1024)
    with pytest.raises(DomainError, match="too large"):
        services.evidence_add(actor=reporter, report=report,
                              question=question(report, "policy-file"),
                              upload=SimpleUploadedFile("big.pdf", pdf_bytes(pages=40)))
    assert not Evidence.objects.exists()


def test_the_limit_is_twenty_megabytes(reporter, report, tmp_path):
    # a sparse file: 20 MB + 1 byte on paper, nothing on disk
    path = tmp_path / "huge.pdf"
    with open(path, "wb") as handle:
        handle.write(pdf_bytes())
        handle.truncate(20 * 1024 * 1024 + 1)
    with open(path, "rb") as handle:
        upload = UploadedFile(handle, name="huge.pdf", size=os.path.getsize(path))
        with pytest.raises(DomainError, match="too large"):
            services.evidence_add(actor=reporter, report=report,
                                  question=question(report, "policy-file"), upload=upload)
    assert services.EVIDENCE_MAX_BYTES == 20 * 1024 * 1024


@pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "..\\..\\windows\\evil.pdf",
                                  "/etc/passwd.pdf", "sub/dir/../policy.pdf"])
def test_path_like_file_names_are_stored_inside_the_reports_folder(name, reporter, report):
    evidence = services.evidence_add(actor=reporter, report=report,
                                     question=question(report, "policy-file"),
                                     upload=SimpleUploadedFile(name, pdf_bytes()))
    assert "/" not in evidence.original_name and "\\" not in evidence.original_name
    assert ".." not in evidence.original_name.replace("...", "")
    folder = Path(settings.STORAGES["default"]["OPTIONS"]["location"]).resolve() / "reports"
    stored = Path(evidence.file.path).resolve()
    assert stored.is_relative_to(folder / str(report.signatory_id) / str(report.pk))
    assert stored.read_bytes().startswith(b"%PDF")


def test_files_go_only_to_questions_that_take_them(reporter, report):
    with pytest.raises(DomainError, match="does not take files"):
        services.evidence_add(actor=reporter, report=report, question=question(report, "policy"),
                              upload=pdf_upload())


def test_files_cannot_be_attached_to_another_questionnaires_question(reporter, report):
    other = make_questionnaire(year=2031)
    with pytest.raises(DomainError, match="Unknown question"):
        services.evidence_add(actor=reporter, report=report,
                              question=Question.objects.get(section__questionnaire=other,
                                                            code="policy-file"),
                              upload=pdf_upload())


@pytest.mark.parametrize("role", NOT_EDITORS)
def test_only_company_editors_attach_files(role, person, report):
    with pytest.raises(PermissionDenied):
        services.evidence_add(actor=person(role), report=report,
                              question=question(report, "policy-file"), upload=pdf_upload())


def test_removing_evidence_deletes_the_file_after_commit(reporter, report,
                                                         django_capture_on_commit_callbacks):
    evidence = services.evidence_add(actor=reporter, report=report,
                                     question=question(report, "policy-file"),
                                     upload=pdf_upload())
    path = Path(evidence.file.path)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.evidence_delete(actor=reporter, evidence=evidence)
    assert path.exists()  # still there until the deletion is committed
    for callback in callbacks:
        callback()
    assert not path.exists()
    assert not Evidence.objects.exists()
    assert events(report, "report.evidence_deleted").exists()


def test_evidence_of_a_submitted_report_cannot_be_removed(reporter, company_a):
    report = report_in(S.SUBMITTED, company_a)
    evidence = add_evidence(report, "policy-file")
    with pytest.raises(DomainError):
        services.evidence_delete(actor=reporter, evidence=evidence)
    assert Evidence.objects.filter(pk=evidence.pk).exists()


# --- questionnaire versions ------------------------------------------------------------------

def test_copying_a_questionnaire_makes_an_unpublished_next_version_with_its_conditions(
        staff_admin):
    original = make_questionnaire(year=2030)
    copy = services.questionnaire_copy(actor=staff_admin, questionnaire=original)

    assert (copy.year, copy.version, copy.is_published) == (2030, original.version + 1, False)

    def shape(qn):
        return sorted(
            (q.section.criterion, q.code, q.type, q.required, q.text,
             q.show_if_question.code if q.show_if_question else None, q.show_if_value, q.prefill)
            for q in Question.objects.filter(section__questionnaire=qn)
            .select_related("section", "show_if_question"))

    assert shape(copy) == shape(original)
    # the conditions point inside the copy, not back at the original's questions
    links = Question.objects.filter(section__questionnaire=copy, show_if_question__isnull=False)
    assert links.count() == 4
    assert not links.exclude(show_if_question__section__questionnaire=copy).exists()
    assert AuditEvent.objects.filter(action="questionnaire.copied", actor=staff_admin).exists()
    assert Questionnaire.objects.filter(year=2030).count() == 2
