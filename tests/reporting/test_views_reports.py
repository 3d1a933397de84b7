"""The annual report pages, for every role: the company's list and report page (answers, files,
submit, conflicts, comments, history) and the staff's queue and review page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from code_portal.models import AuditEvent
from reporting import services
from reporting.models import Answer, CriterionReview, Evidence, Report, ReportStatus
from tests.factories import SignatoryFactory
from tests.reporting.factories import (
    PNG_BYTES,
    ReportFactory,
    add_evidence,
    complete_answers,
    make_questionnaire,
    pdf_bytes,
    pdf_upload,
    question,
    review,
    set_answers,
)

pytestmark = pytest.mark.django_db

R = ReportStatus


# The form as the browser sends it for a report answered as `complete_answers` does.
COMPLETE = {"policy": "yes", "trained": "12", "channel": "web", "activities": "Workshops",
            "public": "no"}


@pytest.fixture
def report(company_a):
    return ReportFactory(signatory=company_a, year=2030)


def detail(report):
    return reverse("report-detail", args=[report.pk])


def review_url(report):
    return reverse("staff-report-review", args=[report.pk])


def form_data(report, **answers):
    """What the browser sends for the report form: the version it loaded and the answers."""
    data = {"version": report.version, "loaded_at": timezone.now().isoformat(),
            "action": "save"}
    data.update(answers)
    return data


def answers_of(report) -> dict:
    return {a.question.code: a.value for a in Answer.objects.filter(report=report)
            .select_related("question")}


def question_block(html: str, code: str) -> str:
    """The HTML of one question's wrapper on the edit form."""
    match = re.search(rf'<div class="question[^"]*" id="question-{re.escape(code)}"[^>]*>',
                      html)
    assert match, f"question {code} not on the page"
    return match.group(0)


# --- The company's list ----------------------------------------------------------------------

def test_reporter_starts_this_years_report_from_the_list(web_as, reporter, company_a):
    client = web_as(reporter)
    url = reverse("company-reports", args=[company_a.pk])
    year = timezone.localdate().year
    page = client.get(url)
    assert page.status_code == 200
    assert f"Start the {year} report" in page.content.decode()

    response = client.post(url, {"year": year})

    report = Report.objects.get(signatory=company_a, year=year)
    assert response.status_code == 302
    assert response["Location"] == detail(report)
    assert report.status == R.DRAFT
    assert report.due_on == company_a.member_since.replace(year=year + 1)


def test_list_shows_each_years_status_and_due_date_and_flags_overdue(web_as, viewer,
                                                                     company_a):
    ReportFactory(signatory=company_a, year=2029, status=R.APPROVED,
                  due_on=date(2030, 3, 1))
    ReportFactory(signatory=company_a, year=2030,
                  due_on=timezone.localdate() - timedelta(days=3))
    html = web_as(viewer).get(reverse("company-reports", args=[company_a.pk])).content.decode()
    rows = re.findall(r"<tr>.*?</tr>", html, flags=re.S)
    row_2030 = next(r for r in rows if "2030 report" in r)
    row_2029 = next(r for r in rows if "2029 report" in r)
    assert "Draft" in row_2030 and "Overdue" in row_2030
    assert "Approved" in row_2029 and "Overdue" not in row_2029


def test_viewer_cannot_start_a_report(web_as, viewer, company_a):
    client = web_as(viewer)
    url = reverse("company-reports", args=[company_a.pk])
    assert "Start the" not in client.get(url).content.decode()
    assert client.post(url, {"year": timezone.localdate().year}).status_code == 403
    assert not Report.objects.filter(signatory=company_a).exists()


def test_company_not_yet_signed_is_not_offered_a_report(web_as, db):
    from signatories.models import MembershipRole
    from tests.factories import MembershipFactory

    applicant = SignatoryFactory()  # applied, not signed
    admin = MembershipFactory(signatory=applicant, role=MembershipRole.ADMIN).user
    html = web_as(admin).get(reverse("company-reports", args=[applicant.pk])).content.decode()
    assert "Start the" not in html


# --- The report page: fields, conditions, saving -------------------------------------------------

def test_report_page_renders_each_question_as_a_field_of_its_type(web_as, reporter, report):
    html = web_as(reporter).get(detail(report)).content.decode()
    assert re.search(rf'name="version"[^>]*value="{report.version}"', html)
    # yes/no as radios in a fieldset with a legend
    assert re.search(r'<input type="radio" name="policy" value="yes" id="q-policy"', html)
    assert '<legend>Question policy?' in html
    # single choice radios, multiple choice checkboxes
    assert re.search(r'type="radio" name="channel" value="web" id="q-channel"', html)
    assert re.search(r'type="checkbox" name="channels" value="print" id="q-channels-2"', html)
    # number and percentage take typed text (validated by the server), long text a textarea
    assert re.search(r'<input type="text" inputmode="decimal"[^>]*name="trained" id="q-trained"',
                     html)
    assert re.search(r'<textarea name="activities" id="q-activities"', html)
    # evidence: a file input with the limits shown; a question that allows evidence gets one too
    assert re.search(r'<input type="file" name="evidence-policy-file" id="q-policy-file"', html)
    assert 'name="evidence-activities"' in html
    assert "up to 20 MB each" in html
    assert '<label for="q-public-url" class="question-label">Question public-url?' in html


def test_help_text_is_shown_and_tied_to_its_field_and_required_questions_are_marked(
        web_as, reporter, report):
    from reporting.models import Question

    Question.objects.filter(section__questionnaire=report.questionnaire, code="trained").update(
        help_text="Count everyone who meets customers, seasonal guides included.")
    html = web_as(reporter).get(detail(report)).content.decode()
    assert re.search(r'<p class="help" id="q-trained-help">Count everyone who meets customers, '
                     r"seasonal guides included.</p>", html)
    assert re.search(r'name="trained" id="q-trained"[^>]*aria-describedby="q-trained-help ', html)
    required, optional = (question(report, "trained"), question(report, "policy-date"))
    assert required.required and not optional.required
    trained_label = re.search(r'<label for="q-trained" class="question-label">(.*?)</label>',
                              html, re.S).group(1)
    date_label = re.search(r'<label for="q-policy-date" class="question-label">(.*?)</label>',
                           html, re.S).group(1)
    assert "(required)" in trained_label and "(optional)" not in trained_label
    assert "(optional)" in date_label


def test_conditional_questions_show_only_when_the_parent_answer_matches(web_as, reporter,
                                                                        report):
    client = web_as(reporter)
    html = client.get(detail(report)).content.decode()
    assert " hidden" in question_block(html, "policy-file")
    assert " hidden" not in question_block(html, "policy")

    client.post(detail(report), form_data(report, policy="yes", public="yes",
                                          **{"public-url": "elsewhere"}))
    html = client.get(detail(report)).content.decode()
    assert " hidden" not in question_block(html, "policy-file")
    assert " hidden" not in question_block(html, "public-where")  # nested condition

    report.refresh_from_db()
    client.post(detail(report), form_data(report, policy="no", public="no",
                                          **{"public-url": "elsewhere"}))
    html = client.get(detail(report)).content.decode()
    assert " hidden" in question_block(html, "policy-file")
    assert " hidden" in question_block(html, "public-where")


def test_save_draft_keeps_valid_answers_and_returns_invalid_input_with_messages(
        web_as, reporter, report):
    response = web_as(reporter).post(detail(report), form_data(
        report, trained="about forty", activities="Workshops", channel="web",
        **{"trained-share": "250"}))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="about forty"' in html and 'value="250"' in html  # the user's input kept
    assert "Enter a number." in html
    assert "Enter a percentage between 0 and 100." in html
    assert 'href="#q-trained"' in html and 'href="#q-trained-share"' in html
    saved = answers_of(report)
    assert saved["activities"] == "Workshops" and saved["channel"] == "web"
    assert "trained" not in saved
    # the form now carries the new version, so saving again is not a conflict
    report.refresh_from_db()
    assert re.search(rf'name="version"[^>]*value="{report.version}"', html)


def test_unticking_every_checkbox_clears_the_saved_answer(web_as, reporter, report):
    set_answers(report, {"channels": ["web", "app"]})
    web_as(reporter).post(detail(report), form_data(report))
    assert answers_of(report)["channels"] is None


def test_saved_answers_and_prefills_are_shown_in_the_form(web_as, reporter, report):
    set_answers(report, {"policy": True, "trained": 42, "channels": ["app"],
                         "activities": "Seminar <b>bold</b>"})
    html = web_as(reporter).get(detail(report)).content.decode()
    assert re.search(r'value="yes" id="q-policy" checked', html)
    assert re.search(r'value="app" id="q-channels-3" checked', html)
    assert 'id="q-trained" value="42"' in html
    assert "Seminar &lt;b&gt;bold&lt;/b&gt;</textarea>" in html
    assert "Filled in from your records" in html  # the prefilled training question says so


def test_edit_conflict_keeps_the_users_input_and_overwrites_nothing(web_as, reporter,
                                                                    company_admin, report):
    loaded = form_data(report)  # the reporter opens the page …
    loaded["loaded_at"] = (timezone.now() - timedelta(minutes=5)).isoformat()
    services.report_save_answers(actor=company_admin, report=report,  # … a colleague saves …
                                 values={"activities": "Admin's text"},
                                 expected_version=report.version)

    response = web_as(reporter).post(detail(report), {**loaded,  # … then the reporter saves
                                                      "activities": "Reporter's text",
                                                      "trained": "7"})

    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this report while you were editing it." in html
    assert "Reporter&#x27;s text</textarea>" in html
    assert 'id="q-trained" value="7"' in html
    assert "Saved meanwhile by someone else:" in html and "Admin&#x27;s text" in html
    assert answers_of(report) == {"activities": "Admin's text"}
    # Saving again from the conflict page is a deliberate choice to keep the reporter's answers.
    report.refresh_from_db()
    assert re.search(rf'name="version"[^>]*value="{report.version}"', html)


def test_own_earlier_save_with_the_same_version_is_not_a_conflict(web_as, reporter, report):
    """An autosave still in flight when "Save draft" is pressed uses the same version."""
    client = web_as(reporter)
    stale = form_data(report, activities="First")
    client.post(reverse("report-autosave", args=[report.pk]), stale)

    response = client.post(detail(report), {**stale, "activities": "Second"})

    assert response.status_code == 302
    assert answers_of(report)["activities"] == "Second"


def test_autosave_saves_answers_and_returns_the_new_version_and_newly_shown_questions(
        web_as, reporter, report):
    response = web_as(reporter).post(reverse("report-autosave", args=[report.pk]),
                                     form_data(report, policy="yes", trained="x"),
                                     HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    report.refresh_from_db()
    assert answers_of(report)["policy"] is True
    assert "Saved at" in html and "some answers need attention" in html
    assert re.search(r'<div id="report-sync" hx-swap-oob="true">', html)
    assert re.search(rf'name="version"[^>]*value="{report.version}"', html)
    # the policy file question appears; the answered question itself is not replaced
    block = question_block(html, "policy-file")
    assert "hidden" not in block and 'hx-swap-oob="true"' in block
    assert 'id="question-policy"' not in html
    assert re.search(r'id="q-trained-errors"[^>]*hx-swap-oob="true"><p class="error">Enter a '
                     r'number.', html)


def test_autosave_after_someone_elses_save_reports_the_conflict_and_saves_nothing(
        web_as, reporter, company_admin, report):
    stale = {**form_data(report, activities="Reporter's text"),
             "loaded_at": (timezone.now() - timedelta(minutes=5)).isoformat()}
    services.report_save_answers(actor=company_admin, report=report,
                                 values={"activities": "Admin's text"},
                                 expected_version=report.version)
    html = web_as(reporter).post(reverse("report-autosave", args=[report.pk]), stale,
                                 HTTP_HX_REQUEST="true").content.decode()
    assert "Someone else has saved this report meanwhile." in html
    assert "report-sync" not in html  # the page keeps its old version: "Save draft" compares
    assert answers_of(report) == {"activities": "Admin's text"}


# --- Evidence ----------------------------------------------------------------------------------

def test_reporter_attaches_evidence_and_sees_it_listed_with_size_and_uploader(
        web_as, reporter, report):
    client = web_as(reporter)
    response = client.post(detail(report), {**form_data(report, policy="yes"),
                                            "evidence-policy-file": pdf_upload("Policy 2030.pdf")})
    assert response.status_code == 302

    evidence = Evidence.objects.get(report=report)
    assert evidence.original_name == "Policy 2030.pdf"
    assert evidence.uploaded_by == reporter
    html = client.get(detail(report)).content.decode()
    assert reverse("evidence-download", args=[report.pk, evidence.pk]) in html
    assert "Policy 2030.pdf" in html
    assert reporter.full_name in html
    assert 'form="delete-evidence-' in html


def test_a_file_whose_content_is_not_what_its_name_says_is_refused_with_a_message(
        web_as, reporter, report):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("policy.pdf", PNG_BYTES, content_type="application/pdf")
    response = web_as(reporter).post(detail(report), {**form_data(report, policy="yes"),
                                                      "evidence-policy-file": fake})
    assert response.status_code == 200
    html = response.content.decode()
    assert "policy.pdf: The content of this file does not match its name" in html
    assert 'href="#q-policy-file"' in html
    assert not Evidence.objects.filter(report=report).exists()


@pytest.mark.parametrize("persona", ["reporter", "viewer", "company_admin", "staff_reviewer",
                                     "staff_admin", "local_rep_sweden"])
def test_everyone_who_may_see_the_report_downloads_evidence_as_an_attachment(
        request, web_as, persona, report):
    content = pdf_bytes(2)
    evidence = add_evidence(report, "policy-file", name="Signed policy.pdf", content=content)
    response = web_as(request.getfixturevalue(persona)).get(
        reverse("evidence-download", args=[report.pk, evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Signed%20policy.pdf" in response["Content-Disposition"] or \
        "Signed policy.pdf" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == content


def test_evidence_can_be_removed_while_the_report_is_editable_only(web_as, reporter, report):
    client = web_as(reporter)
    first = add_evidence(report, "policy-file", name="old.pdf")
    response = client.post(reverse("evidence-delete", args=[report.pk, first.pk]))
    assert response.status_code == 302
    assert response["Location"].endswith("#question-policy-file")
    assert not Evidence.objects.filter(pk=first.pk).exists()

    complete_answers(report)
    services.report_submit(actor=reporter, report=report)
    kept = Evidence.objects.get(report=report)
    client.post(reverse("evidence-delete", args=[report.pk, kept.pk]))
    assert Evidence.objects.filter(pk=kept.pk).exists()


def test_viewer_cannot_remove_evidence(web_as, viewer, report):
    evidence = add_evidence(report, "policy-file")
    response = web_as(viewer).post(reverse("evidence-delete", args=[report.pk, evidence.pk]))
    assert response.status_code == 403
    assert Evidence.objects.filter(pk=evidence.pk).exists()


# --- Roles on the report page ---------------------------------------------------------------------

def test_viewer_reads_the_report_without_a_form_and_cannot_save(web_as, viewer, report):
    set_answers(report, {"policy": True, "activities": "Workshops"})
    client = web_as(viewer)
    html = client.get(detail(report)).content.decode()
    assert 'id="report-form"' not in html
    assert "Workshops" in html and "Yes" in html
    assert client.post(detail(report), form_data(report, activities="Changed")).status_code == 403
    assert answers_of(report)["activities"] == "Workshops"


@pytest.mark.parametrize("persona", ["company_admin", "reporter"])
def test_company_admin_and_reporter_get_the_editable_form(request, web_as, persona, report):
    html = web_as(request.getfixturevalue(persona)).get(detail(report)).content.decode()
    assert 'id="report-form"' in html and "Save draft" in html


@pytest.mark.parametrize("persona", ["staff_reviewer", "staff_admin", "local_rep_sweden"])
def test_staff_read_the_company_view_and_find_the_review_page(request, web_as, persona, report):
    html = web_as(request.getfixturevalue(persona)).get(detail(report)).content.decode()
    assert 'id="report-form"' not in html
    assert review_url(report) in html


# --- Submitting --------------------------------------------------------------------------------

def test_submit_with_missing_answers_lists_each_one_with_a_link_to_it(web_as, reporter, report):
    response = web_as(reporter).post(detail(report), {**form_data(report, policy="yes"),
                                                      "action": "submit"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "The report cannot be submitted yet" in html
    summary = html.split('class="error-summary"')[1].split("</div>")[0]
    links = re.findall(r'href="#q-([\w-]+)"', summary)
    # required and shown: the policy file now that the policy answer is yes; not the hidden
    # public-url (its parent is unanswered) nor optional questions
    assert links == ["policy-file", "trained", "channel", "activities", "public"]
    for code in links:
        assert f'id="q-{code}"' in html
    report.refresh_from_db()
    assert report.status == R.DRAFT
    assert answers_of(report)["policy"] is True  # what was typed is saved all the same


def test_complete_report_is_submitted_and_then_read_only(web_as, reporter, report,
                                                         django_capture_on_commit_callbacks,
                                                         mailoutbox):
    complete_answers(report)
    client = web_as(reporter)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(detail(report), {**form_data(report, **COMPLETE),
                                                "action": "submit"})

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == R.SUBMITTED and report.submission_count == 1
    page = client.get(detail(report))
    html = page.content.decode()
    assert 'id="report-form"' not in html
    assert "can no longer be changed" in html
    assert "Workshops" in html
    # a stale form posted after submission changes nothing
    response = client.post(detail(report), form_data(report, activities="Late edit"))
    assert response.status_code == 302
    assert answers_of(report)["activities"] == "Workshops"


def test_company_sees_the_reviewers_comments_per_criterion_when_changes_are_requested(
        web_as, reporter, company_a):
    report = ReportFactory(signatory=company_a, status=R.CHANGES_REQUESTED)
    review(report, 1, score="partly", comment="Attach the signed policy, not a draft.")
    review(report, 3, score="met", comment="")
    AuditEvent.objects.create(actor=None, actor_label="reviewer@thecode.example",
                              action="report.request_changes", content_type_id=_ct(),
                              object_id=str(report.pk), object_repr=str(report),
                              signatory=company_a, from_state="under_review",
                              to_state="changes_requested", reason="Two things to fix.")
    html = web_as(reporter).get(detail(report)).content.decode()
    assert "The Code staff have asked for changes." in html
    assert "Two things to fix." in html
    section_1 = html.split('id="criterion-1-h"')[1].split('id="criterion-2-h"')[0]
    assert "Attach the signed policy, not a draft." in section_1 and "Partly met" in section_1
    assert 'id="report-form"' in html  # editable again


def _ct():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Report).pk


def test_history_shows_who_did_what_with_the_state_changes(web_as, reporter, staff_reviewer,
                                                          report):
    complete_answers(report)
    client = web_as(reporter)
    for text in ("One", "Two", "Three"):
        report.refresh_from_db()
        client.post(detail(report), form_data(report, **{**COMPLETE, "activities": text}))
    services.report_submit(actor=reporter, report=report)
    report.refresh_from_db()
    services.report_review_criterion(actor=staff_reviewer, report=report, criterion=3,
                                     score="not_met", comment="The clause text is missing.")
    services.report_request_changes(actor=staff_reviewer, report=report,
                                    reason="Please attach the clause.")
    html = client.get(detail(report)).content.decode()
    history = html.split('id="history-h"')[1]
    assert "Changes requested" in history and "Please attach the clause." in history
    # the comments sent back with the request, in the same row
    assert "Criterion 3: The clause text is missing." in history
    assert "Under review → Changes requested" in history
    assert "Submitted → Under review" in history
    assert "Draft → Submitted" in history
    assert "Answers saved (3 times)" in history  # autosaves fold into one line


# --- Staff: queue ------------------------------------------------------------------------------

def test_queue_lists_submitted_and_under_review_reports_oldest_first(web_as, staff_reviewer,
                                                                     company_a, company_b):
    now = timezone.now()
    newer = ReportFactory(signatory=company_a, status=R.SUBMITTED,
                          submitted_at=now - timedelta(days=1))
    older = ReportFactory(signatory=company_b, status=R.UNDER_REVIEW,
                          submitted_at=now - timedelta(days=9))
    ReportFactory(status=R.DRAFT)
    ReportFactory(status=R.APPROVED)
    html = web_as(staff_reviewer).get(reverse("staff-report-queue")).content.decode()
    links = re.findall(r'href="/staff/reports/(\d+)/"', html)
    assert links == [str(older.pk), str(newer.pk)]


def test_queue_filters_by_country_type_year_and_reviewer(web_as, staff_admin, staff_reviewer,
                                                         company_a, company_b):
    a = ReportFactory(signatory=company_a, status=R.SUBMITTED, year=2030)
    b = ReportFactory(signatory=company_b, status=R.UNDER_REVIEW, year=2029,
                      reviewer=staff_reviewer)
    client = web_as(staff_admin)

    def listed(**params):
        html = client.get(reverse("staff-report-queue"), params).content.decode()
        return {int(pk) for pk in re.findall(r'href="/staff/reports/(\d+)/"', html)}

    assert listed(country="TH") == {b.pk}
    assert listed(year="2030") == {a.pk}
    assert listed(reviewer=staff_reviewer.pk) == {b.pk}
    assert listed(type=company_a.type) == {a.pk, b.pk}
    assert listed(type="hotel") == set()


def test_choosing_statuses_lists_any_report_with_due_and_decision_date_ranges(
        web_as, staff_admin, company_a, company_b):
    today = timezone.localdate()
    overdue = ReportFactory(signatory=company_a, status=R.DRAFT, due_on=today - timedelta(days=3))
    sent_back = ReportFactory(signatory=company_b, status=R.CHANGES_REQUESTED, year=2029,
                              due_on=today - timedelta(days=1))
    due_today = ReportFactory(status=R.DRAFT, due_on=today)
    in_queue = ReportFactory(status=R.SUBMITTED, due_on=today - timedelta(days=5))
    approved = ReportFactory(status=R.APPROVED, decided_at=datetime(2031, 12, 31, 23, 30, tzinfo=UTC))
    ReportFactory(status=R.APPROVED, decided_at=datetime(2032, 1, 1, 0, 30, tzinfo=UTC))
    client = web_as(staff_admin)

    def listed(*statuses, **params):
        response = client.get(reverse("staff-report-queue"), {"status": list(statuses), **params})
        assert response.status_code == 200
        return [int(pk) for pk in re.findall(r'href="/staff/reports/(\d+)/"',
                                            response.content.decode())]

    yesterday = (today - timedelta(days=1)).isoformat()
    # overdue: open reports due before today, by due date
    assert listed(R.DRAFT, R.CHANGES_REQUESTED, due_to=yesterday) == [overdue.pk, sent_back.pk]
    assert listed(R.DRAFT, due_from=today.isoformat(), due_to=today.isoformat()) == [due_today.pk]
    assert listed(R.APPROVED, decided_from="2031-01-01", decided_to="2031-12-31") == [approved.pk]
    assert listed(R.DRAFT, R.CHANGES_REQUESTED, due_to=yesterday, country="TH") == [sent_back.pk]
    # without statuses the page stays the review queue
    html = client.get(reverse("staff-report-queue")).content.decode()
    assert re.findall(r'href="/staff/reports/(\d+)/"', html) == [str(in_queue.pk)]
    assert "Reports to review" in html


def test_report_list_by_status_stays_within_a_local_representatives_countries(
        web_as, local_rep_sweden, company_a, company_b):
    mine = ReportFactory(signatory=company_a, status=R.DRAFT)
    ReportFactory(signatory=company_b, status=R.DRAFT)
    html = web_as(local_rep_sweden).get(reverse("staff-report-queue"),
                                        {"status": R.DRAFT}).content.decode()
    assert re.findall(r'href="/staff/reports/(\d+)/"', html) == [str(mine.pk)]


def test_local_representative_sees_only_their_countrys_reports_in_the_queue(
        web_as, local_rep_sweden, company_a, company_b):
    mine = ReportFactory(signatory=company_a, status=R.SUBMITTED)
    ReportFactory(signatory=company_b, status=R.SUBMITTED)
    html = web_as(local_rep_sweden).get(reverse("staff-report-queue")).content.decode()
    assert re.findall(r'href="/staff/reports/(\d+)/"', html) == [str(mine.pk)]


@pytest.mark.parametrize("persona", ["company_admin", "reporter", "viewer"])
def test_company_users_do_not_find_the_queue_or_review_page(request, web_as, persona, company_a):
    report = ReportFactory(signatory=company_a, status=R.SUBMITTED)
    client = web_as(request.getfixturevalue(persona))
    assert client.get(reverse("staff-report-queue")).status_code == 404
    assert client.get(review_url(report)).status_code == 404


def test_staff_reviewer_assigns_themselves_from_the_queue(web_as, staff_reviewer, company_a):
    report = ReportFactory(signatory=company_a, status=R.SUBMITTED)
    client = web_as(staff_reviewer)
    queue = reverse("staff-report-queue")
    response = client.post(reverse("staff-report-assign", args=[report.pk]),
                           {"reviewer": staff_reviewer.pk, "next": queue})
    assert response.status_code == 302 and response["Location"] == queue
    report.refresh_from_db()
    assert report.reviewer == staff_reviewer and report.status == R.UNDER_REVIEW


def test_staff_admin_assigns_a_reviewer_on_the_review_page(web_as, staff_admin, staff_reviewer,
                                                           company_a):
    report = ReportFactory(signatory=company_a, status=R.SUBMITTED)
    client = web_as(staff_admin)
    html = client.get(review_url(report)).content.decode()
    assert f'<option value="{staff_reviewer.pk}"' in html
    client.post(reverse("staff-report-assign", args=[report.pk]),
                {"reviewer": staff_reviewer.pk, "next": "https://evil.example/"})
    report.refresh_from_db()
    assert report.reviewer == staff_reviewer


def test_a_local_rep_of_another_country_cannot_be_assigned(web_as, staff_admin, company_a,
                                                           local_rep_other_country):
    report = ReportFactory(signatory=company_a, status=R.SUBMITTED)
    response = web_as(staff_admin).post(reverse("staff-report-assign", args=[report.pk]),
                                        {"reviewer": local_rep_other_country.pk})
    assert response.status_code == 400
    report.refresh_from_db()
    assert report.reviewer is None


# --- Staff: review page --------------------------------------------------------------------------

def test_review_page_shows_answers_and_evidence_beside_last_years_answers(
        web_as, staff_reviewer, company_a):
    last = ReportFactory(signatory=company_a, year=2029, status=R.APPROVED)
    set_answers(last, {"activities": "Last year's seminar", "policy": False})
    report = ReportFactory(signatory=company_a, year=2030, status=R.SUBMITTED)
    set_answers(report, {"activities": "This year's workshop", "policy": True})
    evidence = add_evidence(report, "policy-file", name="policy-2030.pdf")
    html = web_as(staff_reviewer).get(review_url(report)).content.decode()
    row = re.search(r'<tr id="q-activities">.*?</tr>', html, flags=re.S).group(0)
    assert "This year&#x27;s workshop" in row and "Last year&#x27;s seminar" in row
    row = re.search(r'<tr id="q-policy">.*?</tr>', html, flags=re.S).group(0)
    assert re.search(r"<td>Yes.*<td>No", row, flags=re.S)
    assert reverse("evidence-download", args=[report.pk, evidence.pk]) in html
    assert "Answer 2029" in html


def test_reviewer_requests_changes_with_a_comment_on_a_criterion(
        web_as, staff_reviewer, reporter, company_a, mailoutbox,
        django_capture_on_commit_callbacks):
    report = ReportFactory(signatory=company_a, status=R.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        response = web_as(staff_reviewer).post(review_url(report), {
            "score-1": "not_met", "comment-1": "The policy is not signed.",
            "decision": "request_changes"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == R.CHANGES_REQUESTED
    saved = CriterionReview.objects.get(report=report, criterion=1)
    assert (saved.score, saved.comment, saved.reviewer) == ("not_met",
                                                            "The policy is not signed.",
                                                            staff_reviewer)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [reporter.email]


def test_request_changes_without_any_comment_is_refused_and_nothing_is_saved(
        web_as, staff_reviewer, company_a):
    report = ReportFactory(signatory=company_a, status=R.SUBMITTED)
    response = web_as(staff_reviewer).post(review_url(report), {"score-2": "met",
                                                                "decision": "request_changes"})
    assert response.status_code == 400
    assert "Say what needs to change" in response.content.decode()
    report.refresh_from_db()
    assert report.status == R.SUBMITTED
    assert not CriterionReview.objects.filter(report=report).exists()


def test_reviewer_approves_with_an_overall_score_and_the_certificate_task_is_queued(
        web_as, staff_reviewer, company_a, django_capture_on_commit_callbacks, monkeypatch):
    from reporting import tasks

    queued = []
    monkeypatch.setattr(tasks.report_approved, "delay", lambda pk: queued.append(pk))
    report = ReportFactory(signatory=company_a, status=R.UNDER_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        response = web_as(staff_reviewer).post(review_url(report), {
            **{f"score-{n}": "met" for n in range(1, 7)}, "overall_score": "met",
            "decision": "approve"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == R.APPROVED and report.overall_score == "met"
    assert queued == [report.pk]
    assert CriterionReview.objects.filter(report=report, score="met").count() == 6
    html = web_as(staff_reviewer).get(review_url(report)).content.decode()
    assert "Request changes" not in html  # decided: no decision form any more


def test_saving_the_review_keeps_the_overall_score_and_a_rejection_records_it(
        web_as, staff_reviewer, company_a):
    report = ReportFactory(signatory=company_a, status=R.SUBMITTED)
    client = web_as(staff_reviewer)
    assert client.post(review_url(report), {"overall_score": "partly",
                                            "decision": "save"}).status_code == 302
    report.refresh_from_db()
    assert (report.status, report.overall_score) == (R.UNDER_REVIEW, "partly")
    html = client.get(review_url(report)).content.decode()
    assert re.search(r'<option value="partly" selected>', html)
    client.post(review_url(report), {"overall_score": "not_met", "decision": "reject",
                                     "reason": "Nothing was done this year."})
    report.refresh_from_db()
    assert (report.status, report.overall_score) == (R.REJECTED, "not_met")


def test_reject_needs_a_reason(web_as, staff_admin, company_a):
    report = ReportFactory(signatory=company_a, status=R.UNDER_REVIEW)
    client = web_as(staff_admin)
    response = client.post(review_url(report), {"decision": "reject"})
    assert response.status_code == 400
    assert 'href="#id_reason"' in response.content.decode()
    client.post(review_url(report), {"decision": "reject", "reason": "No evidence at all."})
    report.refresh_from_db()
    assert report.status == R.REJECTED and report.decision_reason == "No evidence at all."


def test_local_rep_of_the_country_may_score_and_comment_but_not_decide(
        web_as, local_rep_sweden, company_a):
    report = ReportFactory(signatory=company_a, status=R.SUBMITTED)
    client = web_as(local_rep_sweden)
    html = client.get(review_url(report)).content.decode()
    assert "Save review" in html and ">Approve<" not in html
    assert client.post(review_url(report), {"comment-4": "Good brochures.",
                                            "decision": "save"}).status_code == 302
    assert CriterionReview.objects.get(report=report, criterion=4).comment == "Good brochures."
    assert client.post(review_url(report), {"decision": "approve"}).status_code == 403
    report.refresh_from_db()
    assert report.status == R.UNDER_REVIEW


def test_staff_admin_moves_the_due_date_with_a_reason(web_as, staff_admin, company_a):
    report = ReportFactory(signatory=company_a)
    client = web_as(staff_admin)
    url = reverse("staff-report-due-date", args=[report.pk])
    response = client.post(url, {"due_on": "2031-06-30", "reason": ""})
    assert response.status_code == 400
    assert client.post(url, {"due_on": "2031-06-30",
                             "reason": "Merger with another member."}).status_code == 302
    report.refresh_from_db()
    assert report.due_on == date(2031, 6, 30)
    event = AuditEvent.objects.get(action="report.due_date_moved")
    assert event.reason == "Merger with another member."


def test_local_rep_cannot_move_the_due_date(web_as, local_rep_sweden, company_a):
    report = ReportFactory(signatory=company_a)
    response = web_as(local_rep_sweden).post(
        reverse("staff-report-due-date", args=[report.pk]),
        {"due_on": "2031-06-30", "reason": "x"})
    assert response.status_code == 403


def test_old_reports_render_against_the_questionnaire_they_were_started_with(
        web_as, reporter, company_a):
    old = make_questionnaire(year=2030, text_prefix="Old wording: ")
    report = ReportFactory(signatory=company_a, year=2030, questionnaire=old)
    make_questionnaire(year=2030, text_prefix="New wording: ")
    html = web_as(reporter).get(detail(report)).content.decode()
    assert "Old wording: Question policy?" in html
    assert "New wording" not in html
    assert question(report, "policy").section.questionnaire_id == old.pk
