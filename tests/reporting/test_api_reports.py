"""The annual-report API for each role: lists, start, answers, evidence, workflow actions."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reporting.models import Answer, Evidence, Report, ReportStatus
from signatories.models import SignatoryStatus, SignatoryType
from tests.factories import SignatoryFactory
from tests.reporting.factories import (
    PNG_BYTES,
    ReportFactory,
    add_evidence,
    complete_answers,
    make_questionnaire,
    pdf_bytes,
    review,
    set_answers,
)

pytestmark = pytest.mark.django_db
S = ReportStatus
BASE = "/api/v1/reports/"


@pytest.fixture
def person(request):
    return lambda name: request.getfixturevalue(name)


@pytest.fixture
def questionnaire(db):
    return make_questionnaire(year=2030)


@pytest.fixture
def report_a(company_a, questionnaire):
    return ReportFactory(signatory=company_a, questionnaire=questionnaire)


@pytest.fixture
def report_b(company_b, questionnaire):
    return ReportFactory(signatory=company_b, questionnaire=questionnaire)


def url(report, suffix=""):
    return f"{BASE}{report.pk}/{suffix}"


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(item["id"] for item in response.json()["results"])


# --- list ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "sees"), [
    ("company_admin", {"a"}), ("reporter", {"a"}), ("viewer", {"a"}), ("outsider", {"b"}),
    ("staff_reviewer", {"a", "b"}), ("staff_admin", {"a", "b"}),
    ("local_rep_sweden", {"a"}), ("local_rep_other_country", set()),
])
def test_the_list_shows_each_role_only_the_reports_it_may_see(role, sees, person, api_as,
                                                              report_a, report_b):
    expected = sorted({"a": report_a.pk, "b": report_b.pk}[k] for k in sees)
    assert ids(api_as(person(role)).get(BASE)) == expected


def test_staff_filter_the_list_by_status_year_country_type_and_reviewer(
        api_as, staff_admin, staff_reviewer, questionnaire):
    hotel_th = SignatoryFactory(status=SignatoryStatus.ACTIVE, active=True, country="TH",
                                type=SignatoryType.HOTEL)
    agency_se = SignatoryFactory(status=SignatoryStatus.ACTIVE, active=True, country="SE",
                                 type=SignatoryType.TRAVEL_AGENCY)
    submitted = ReportFactory(signatory=hotel_th, questionnaire=questionnaire,
                              status=S.SUBMITTED)
    assigned = ReportFactory(signatory=agency_se, questionnaire=questionnaire,
                             status=S.UNDER_REVIEW, reviewer=staff_reviewer)
    older = ReportFactory(signatory=agency_se, questionnaire=questionnaire, year=2029,
                          status=S.APPROVED)
    client = api_as(staff_admin)
    assert ids(client.get(BASE, {"status": ["submitted", "under_review"]})) == sorted(
        [submitted.pk, assigned.pk])
    assert ids(client.get(BASE, {"year": 2029})) == [older.pk]
    assert ids(client.get(BASE, {"country": "TH"})) == [submitted.pk]
    assert ids(client.get(BASE, {"type": "travel_agency", "year": 2030})) == [assigned.pk]
    assert ids(client.get(BASE, {"reviewer": staff_reviewer.pk})) == [assigned.pk]
    assert ids(client.get(BASE, {"reviewer": "null", "year": 2030})) == [submitted.pk]
    assert ids(client.get(BASE, {"search": hotel_th.legal_name})) == [submitted.pk]
    assert client.get(BASE, {"status": "bogus"}).status_code == 400


def test_the_review_queue_lists_submitted_reports_oldest_first(api_as, staff_reviewer,
                                                               questionnaire, reporter):
    def at(day, status=S.SUBMITTED):
        from datetime import datetime
        from zoneinfo import ZoneInfo

        return ReportFactory(questionnaire=questionnaire, status=status,
                             submitted_at=datetime(2031, 1, day, tzinfo=ZoneInfo("UTC")))

    newer, oldest, middle = at(20), at(2), at(10, S.UNDER_REVIEW)
    at(1, S.CHANGES_REQUESTED)
    at(1, S.APPROVED)
    response = api_as(staff_reviewer).get(f"{BASE}queue/")
    assert [r["id"] for r in response.json()["results"]] == [oldest.pk, middle.pk, newer.pk]
    assert api_as(reporter).get(f"{BASE}queue/").json()["results"] == []


# --- start -----------------------------------------------------------------------------------

def test_a_reporter_starts_the_years_report_and_starting_again_opens_it(api_as, reporter,
                                                                        company_a,
                                                                        questionnaire):
    client = api_as(reporter)
    first = client.post(BASE, {"signatory": company_a.pk, "year": 2030}, format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["status"], body["year"], body["version"]) == ("draft", 2030, 1)
    assert body["questionnaire"] == questionnaire.pk
    again = client.post(BASE, {"signatory": company_a.pk, "year": 2030}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]


@pytest.mark.parametrize("role", ["viewer", "staff_reviewer", "staff_admin", "local_rep_sweden"])
def test_who_may_see_but_not_edit_cannot_start_a_report(role, person, api_as, company_a,
                                                        questionnaire):
    response = api_as(person(role)).post(BASE, {"signatory": company_a.pk, "year": 2030},
                                         format="json")
    assert response.status_code == 403
    assert not Report.objects.exists()


@pytest.mark.parametrize("role", ["outsider", "local_rep_other_country"])
def test_starting_a_report_for_a_company_one_cannot_see_is_refused_as_unknown(
        role, person, api_as, company_a, questionnaire):
    response = api_as(person(role)).post(BASE, {"signatory": company_a.pk, "year": 2030},
                                         format="json")
    assert response.status_code == 400
    assert response.json() == {"signatory": ["Unknown signatory."]}
    assert not Report.objects.exists()


# --- the full report -------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["company_admin", "reporter", "viewer", "staff_reviewer",
                                  "staff_admin", "local_rep_sweden"])
def test_the_report_shows_questions_answers_visibility_and_evidence(role, person, api_as,
                                                                    report_a):
    set_answers(report_a, {"policy": True, "channel": "print", "public": False})
    evidence = add_evidence(report_a, "policy-file", name="Policy 2030.pdf")
    response = api_as(person(role)).get(url(report_a))
    assert response.status_code == 200
    body = response.json()
    questions = {q["code"]: q for s in body["sections"] for q in s["questions"]}
    assert [s["criterion"] for s in body["sections"]] == [1, 2, 3, 4, 5, 6]
    assert questions["policy"]["answer"] is True
    assert questions["channel"]["answer"] == "print"
    assert questions["channel"]["answer_display"] == "Brochures"
    assert questions["policy-file"]["visible"] is True
    assert questions["public-url"]["visible"] is False
    assert questions["public-url"]["show_if"] == {"question": "public", "value": "yes"}
    [item] = questions["policy-file"]["evidence"]
    assert item["original_name"] == "Policy 2030.pdf"
    assert item["size"] == evidence.size
    assert item["download_url"] == f"{BASE}{report_a.pk}/evidence/{evidence.pk}/download/"


@pytest.mark.parametrize(("role", "can"), [
    ("reporter", {"edit", "submit"}),
    ("viewer", set()),
    ("staff_reviewer", {"review", "decide", "assign", "set_due_date"}),
    ("local_rep_sweden", {"review"}),
])
def test_the_report_says_what_the_user_may_do(role, can, person, api_as, report_a):
    permissions = api_as(person(role)).get(url(report_a)).json()["permissions"]
    assert {name for name, allowed in permissions.items() if allowed} == can


def test_the_company_sees_the_reviewers_comments_only_once_changes_are_requested(
        api_as, reporter, staff_reviewer, company_a, questionnaire):
    report = ReportFactory(signatory=company_a, questionnaire=questionnaire,
                           status=S.UNDER_REVIEW, submission_count=1)
    review(report, 1, comment="Attach the signed version", score="not_met")

    def comments(user):
        body = api_as(user).get(url(report)).json()
        return [(r["round"], r["comment"]) for s in body["sections"] for r in s["reviews"]]

    assert comments(reporter) == []  # still being reviewed
    assert comments(staff_reviewer) == [(1, "Attach the signed version")]

    Report.objects.filter(pk=report.pk).update(status=S.CHANGES_REQUESTED)
    assert comments(reporter) == [(1, "Attach the signed version")]

    # resubmitted: round 1 stays visible as history; round 2 is hidden while it is reviewed
    Report.objects.filter(pk=report.pk).update(status=S.UNDER_REVIEW, submission_count=2)
    review(report, 1, round=2, comment="Better, one more thing", score="partly")
    assert comments(reporter) == [(1, "Attach the signed version")]
    assert comments(staff_reviewer) == [(1, "Attach the signed version"),
                                        (2, "Better, one more thing")]
    Report.objects.filter(pk=report.pk).update(status=S.APPROVED)
    assert comments(reporter) == [(1, "Attach the signed version"),
                                  (2, "Better, one more thing")]


def test_last_years_answers_are_shown_beside_this_years(api_as, staff_reviewer, company_a,
                                                        questionnaire):
    last = ReportFactory(signatory=company_a, questionnaire=questionnaire, year=2029,
                         status=S.APPROVED)
    set_answers(last, {"channel": "web"})
    report = ReportFactory(signatory=company_a, questionnaire=questionnaire, year=2030)
    body = api_as(staff_reviewer).get(url(report)).json()
    questions = {q["code"]: q for s in body["sections"] for q in s["questions"]}
    assert questions["channel"]["previous_answer_display"] == "Website"


# --- answers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["company_admin", "reporter"])
def test_company_editors_save_answers_and_get_the_new_version_and_errors(role, person, api_as,
                                                                         report_a):
    response = api_as(person(role)).patch(url(report_a), {
        "version": 1, "answers": {"policy": "yes", "trained": "lots", "nope": "x"}},
        format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2
    assert body["errors"] == {"trained": "Enter a number.", "nope": "Unknown question."}
    questions = {q["code"]: q for s in body["sections"] for q in s["questions"]}
    assert questions["policy"]["answer"] is True
    assert questions["policy-file"]["visible"] is True  # revealed by the answer just saved


def test_a_save_from_a_stale_version_is_a_conflict(api_as, reporter, company_admin, report_a):
    api_as(company_admin).patch(url(report_a), {"version": 1, "answers": {"activities": "A"}},
                                format="json")
    response = api_as(reporter).patch(url(report_a), {"version": 1,
                                                      "answers": {"activities": "B"}},
                                      format="json")
    assert response.status_code == 409
    assert "Someone else saved this report" in response.json()["detail"]
    assert Answer.objects.get(report=report_a, question__code="activities").value == "A"


@pytest.mark.parametrize("role", ["viewer", "staff_reviewer", "staff_admin", "local_rep_sweden"])
def test_readers_cannot_save_answers(role, person, api_as, report_a):
    response = api_as(person(role)).patch(url(report_a), {"version": 1,
                                                          "answers": {"policy": "yes"}},
                                          format="json")
    assert response.status_code == 403
    assert not Answer.objects.exists()


def test_answers_of_a_submitted_report_cannot_be_changed(api_as, reporter, company_a,
                                                         questionnaire):
    report = ReportFactory(signatory=company_a, questionnaire=questionnaire, status=S.SUBMITTED)
    response = api_as(reporter).patch(url(report), {"version": 1, "answers": {"policy": "no"}},
                                      format="json")
    assert response.status_code == 409
    assert "can no longer be edited" in response.json()["detail"]


def test_a_save_without_a_version_is_refused(api_as, reporter, report_a):
    response = api_as(reporter).patch(url(report_a), {"answers": {"policy": "yes"}},
                                      format="json")
    assert response.status_code == 400
    assert "version" in response.json()


# --- evidence --------------------------------------------------------------------------------

def upload(client, report, name="policy.pdf", content=None, question="policy-file"):
    file = SimpleUploadedFile(name, pdf_bytes() if content is None else content)
    return client.post(url(report, "evidence/"), {"question": question, "file": file},
                       format="multipart")


def test_a_reporter_uploads_lists_downloads_and_removes_evidence(api_as, reporter, report_a):
    client = api_as(reporter)
    content = pdf_bytes()
    created = upload(client, report_a, name="Our policy.pdf", content=content)
    assert created.status_code == 201, created.content
    item = created.json()
    assert (item["question"], item["original_name"], item["size"], item["content_type"]) == (
        "policy-file", "Our policy.pdf", len(content), "application/pdf")
    assert item["uploaded_by"]["id"] == reporter.pk

    assert [e["id"] for e in client.get(url(report_a, "evidence/")).json()] == [item["id"]]

    download = client.get(item["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Disposition"].startswith("attachment;")
    assert "Our policy.pdf" in download["Content-Disposition"]
    assert download["Content-Type"] == "application/pdf"
    assert "private" in download["Cache-Control"]

    removed = client.delete(url(report_a, f"evidence/{item['id']}/"))
    assert removed.status_code == 204
    assert not Evidence.objects.exists()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("policy.pdf", PNG_BYTES, "does not match its name"),
    ("policy.pdf", b"", "The file is empty."),
    ("run.exe", b"MZ" + b"\x00" * 100, "are not accepted"),
])
def test_a_bad_file_is_refused_with_a_message_on_the_file(name, content, message, api_as,
                                                          reporter, report_a):
    response = upload(api_as(reporter), report_a, name=name, content=content)
    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not Evidence.objects.exists()


def test_a_file_for_an_unknown_question_is_refused(api_as, reporter, report_a):
    response = upload(api_as(reporter), report_a, question="no-such-question")
    assert response.status_code == 400
    assert response.json() == {"question": ["Unknown question."]}


@pytest.mark.parametrize("role", ["viewer", "staff_reviewer", "local_rep_sweden"])
def test_readers_download_evidence_but_cannot_upload_or_remove_it(role, person, api_as,
                                                                  report_a):
    evidence = add_evidence(report_a, "policy-file")
    client = api_as(person(role))
    assert upload(client, report_a).status_code == 403
    assert client.delete(url(report_a, f"evidence/{evidence.pk}/")).status_code == 403
    download = client.get(url(report_a, f"evidence/{evidence.pk}/download/"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")


# --- submit ----------------------------------------------------------------------------------

def test_submitting_an_incomplete_report_lists_what_is_missing_with_links(api_as, reporter,
                                                                          report_a):
    set_answers(report_a, {"policy": True, "trained": 4, "channel": "web", "public": False})
    response = api_as(reporter).post(url(report_a, "submit/"))
    assert response.status_code == 400
    assert response.json()["missing"] == [
        {"code": "policy-file", "text": "Question policy-file?",
         "message": "Attach at least one file.",
         "link": f"/reports/{report_a.pk}/#q-policy-file"},
        {"code": "activities", "text": "Question activities?",
         "message": "This question needs an answer.",
         "link": f"/reports/{report_a.pk}/#q-activities"},
    ]
    report_a.refresh_from_db()
    assert report_a.status == S.DRAFT


def test_submitting_a_complete_report_sends_it_for_review(api_as, reporter, report_a):
    complete_answers(report_a)
    response = api_as(reporter).post(url(report_a, "submit/"))
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["submission_count"]) == ("submitted", 1)


@pytest.mark.parametrize("role", ["viewer", "staff_reviewer", "staff_admin"])
def test_only_company_editors_submit(role, person, api_as, report_a):
    complete_answers(report_a)
    assert api_as(person(role)).post(url(report_a, "submit/")).status_code == 403


# --- staff actions ---------------------------------------------------------------------------

@pytest.fixture
def under_review(company_a, questionnaire):
    return ReportFactory(signatory=company_a, questionnaire=questionnaire,
                         status=S.UNDER_REVIEW)


ACTIONS = [
    ("request-changes", {"reason": "Attach the signed policy"}, "changes_requested"),
    ("approve", {"overall_score": "met"}, "approved"),
    ("reject", {"reason": "Nothing was done this year"}, "rejected"),
]


@pytest.mark.parametrize(("action", "data", "status"), ACTIONS)
@pytest.mark.parametrize("role", ["staff_reviewer", "staff_admin"])
def test_central_staff_decide(action, data, status, role, person, api_as, under_review):
    response = api_as(person(role)).post(url(under_review, f"{action}/"), data, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == status


@pytest.mark.parametrize(("action", "data", "status"), ACTIONS)
@pytest.mark.parametrize("role", ["company_admin", "reporter", "viewer", "local_rep_sweden"])
def test_the_company_and_local_representatives_cannot_decide(action, data, status, role,
                                                             person, api_as, under_review):
    response = api_as(person(role)).post(url(under_review, f"{action}/"), data, format="json")
    assert response.status_code == 403
    under_review.refresh_from_db()
    assert under_review.status == S.UNDER_REVIEW


@pytest.mark.parametrize(("action", "data", "status"), ACTIONS)
def test_a_draft_cannot_be_decided(action, data, status, api_as, staff_admin, report_a):
    response = api_as(staff_admin).post(url(report_a, f"{action}/"), data, format="json")
    assert response.status_code == 409
    assert "cannot be changed this way" in response.json()["detail"]


def test_rejecting_without_a_reason_is_refused(api_as, staff_admin, under_review):
    response = api_as(staff_admin).post(url(under_review, "reject/"), {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()


def test_an_unknown_overall_score_is_refused(api_as, staff_admin, under_review):
    response = api_as(staff_admin).post(url(under_review, "approve/"),
                                        {"overall_score": "stellar"}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(("action", "data", "status"), ACTIONS)
def test_every_decision_takes_an_overall_score_and_keeps_the_saved_one_without(
        action, data, status, api_as, staff_admin, company_a, questionnaire):
    client = api_as(staff_admin)
    given = ReportFactory(signatory=company_a, questionnaire=questionnaire, year=2030,
                          status=S.UNDER_REVIEW)
    response = client.post(url(given, f"{action}/"), {**data, "overall_score": "not_met"},
                           format="json")
    assert (response.status_code, response.json()["overall_score"]) == (200, "not_met")
    kept = ReportFactory(signatory=company_a, questionnaire=questionnaire, year=2031,
                         status=S.UNDER_REVIEW, overall_score="partly")
    without = {k: v for k, v in data.items() if k != "overall_score"}
    response = client.post(url(kept, f"{action}/"), without, format="json")
    assert (response.json()["status"], response.json()["overall_score"]) == (status, "partly")


def test_staff_assign_and_unassign_a_reviewer(api_as, staff_admin, staff_reviewer, company_a,
                                              questionnaire):
    report = ReportFactory(signatory=company_a, questionnaire=questionnaire, status=S.SUBMITTED)
    client = api_as(staff_admin)
    response = client.post(url(report, "assign/"), {"reviewer": staff_reviewer.pk},
                           format="json")
    assert response.status_code == 200, response.content
    assert response.json()["reviewer"]["id"] == staff_reviewer.pk
    assert response.json()["status"] == "under_review"
    response = client.post(url(report, "assign/"), {"reviewer": None}, format="json")
    assert response.json()["reviewer"] is None


def test_assigning_someone_who_is_not_code_staff_is_refused(api_as, staff_admin, reporter,
                                                            local_rep_other_country,
                                                            under_review):
    client = api_as(staff_admin)
    response = client.post(url(under_review, "assign/"), {"reviewer": reporter.pk},
                           format="json")
    assert response.status_code == 400
    assert response.json() == {"reviewer": ["Unknown reviewer."]}
    response = client.post(url(under_review, "assign/"),
                           {"reviewer": local_rep_other_country.pk}, format="json")
    assert response.status_code == 400
    assert "cannot review" in response.json()["reviewer"][0]


@pytest.mark.parametrize("role", ["reporter", "local_rep_sweden"])
def test_only_central_staff_assign(role, person, api_as, staff_reviewer, under_review):
    response = api_as(person(role)).post(url(under_review, "assign/"),
                                         {"reviewer": staff_reviewer.pk}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["staff_reviewer", "local_rep_sweden"])
def test_reviewers_score_and_comment_a_criterion(role, person, api_as, under_review):
    response = api_as(person(role)).post(url(under_review, "review/"), {
        "criterion": 2, "score": "partly", "comment": "Only half of the guides trained"},
        format="json")
    assert response.status_code == 200, response.content
    assert response.json()["criterion"] == 2
    assert response.json()["score"] == "partly"


def test_the_company_cannot_review_its_own_report(api_as, company_admin, under_review):
    response = api_as(company_admin).post(url(under_review, "review/"),
                                          {"criterion": 1, "score": "met"}, format="json")
    assert response.status_code == 403


def test_staff_move_the_due_date_with_a_reason(api_as, staff_admin, reporter, report_a):
    client = api_as(staff_admin)
    response = client.post(url(report_a, "due-date/"),
                           {"due_on": "2031-09-30", "reason": "Extension agreed"},
                           format="json")
    assert response.status_code == 200, response.content
    assert response.json()["due_on"] == "2031-09-30"
    assert client.post(url(report_a, "due-date/"), {"due_on": "2031-10-30"},
                       format="json").status_code == 400
    assert api_as(reporter).post(url(report_a, "due-date/"), {
        "due_on": "2032-01-01", "reason": "Please"}, format="json").status_code == 403
    report_a.refresh_from_db()
    assert report_a.due_on == date(2031, 9, 30)


def test_the_company_sees_the_history_but_not_internal_assignments(
        api_as, reporter, staff_admin, staff_reviewer, report_a):
    complete_answers(report_a)
    api_as(reporter).post(url(report_a, "submit/"))
    api_as(staff_admin).post(url(report_a, "assign/"), {"reviewer": staff_reviewer.pk},
                             format="json")
    company = [e["action"] for e in api_as(reporter).get(url(report_a, "history/")).json()]
    staff = [e["action"] for e in api_as(staff_admin).get(url(report_a, "history/")).json()]
    assert "report.submit" in company and "report.assigned" not in company
    assert "report.assigned" in staff


# --- questionnaires --------------------------------------------------------------------------

def test_the_questionnaire_in_force_for_a_year_is_its_latest_published_version(api_as,
                                                                               reporter):
    make_questionnaire(year=2030, text_prefix="v1: ")
    latest = make_questionnaire(year=2030, text_prefix="v2: ")
    make_questionnaire(year=2030, published=False, text_prefix="draft: ")
    body = api_as(reporter).get("/api/v1/questionnaires/2031/").json()
    assert (body["year"], body["version"]) == (2030, latest.version)
    texts = [q["text"] for s in body["sections"] for q in s["questions"]]
    assert texts and all(t.startswith("v2: ") for t in texts)


def test_the_default_questionnaire_is_served_for_2025(api_as, reporter):
    body = api_as(reporter).get("/api/v1/questionnaires/2025/").json()
    codes = [q["code"] for s in body["sections"] for q in s["questions"]]
    assert [s["criterion"] for s in body["sections"]] == [1, 2, 3, 4, 5, 6]
    assert "policy-written" in codes and "training-cf-trained" in codes


def test_a_year_before_any_questionnaire_is_not_found(api_as, reporter):
    assert api_as(reporter).get("/api/v1/questionnaires/1999/").status_code == 404
