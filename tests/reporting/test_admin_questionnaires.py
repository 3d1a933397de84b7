"""Django admin: staff admins edit questionnaires; a version reports use is read-only and is
changed through a copy; reports and certificates are read-only."""

import pytest

from reporting.models import Certificate, Question, Questionnaire, Report, ReportStatus
from tests.reporting.certificate_helpers import approve, submitted_report
from tests.reporting.factories import ReportFactory, make_questionnaire

pytestmark = pytest.mark.django_db


@pytest.fixture
def unused(db):
    return make_questionnaire(year=2030, published=False)


@pytest.fixture
def in_use(company_a):
    questionnaire = make_questionnaire(year=2030)
    ReportFactory(signatory=company_a, questionnaire=questionnaire, year=2030)
    return questionnaire


def change_url(model, pk):
    return f"/admin/reporting/{model}/{pk}/change/"


def edit(client, questionnaire, title):
    return client.post(change_url("questionnaire", questionnaire.pk), {
        "year": questionnaire.year, "version": questionnaire.version, "title": title,
        "sections-TOTAL_FORMS": "0", "sections-INITIAL_FORMS": "0",
        "sections-MIN_NUM_FORMS": "0", "sections-MAX_NUM_FORMS": "1000",
    })


def test_a_staff_admin_edits_a_questionnaire_no_report_uses_yet(web_as, staff_admin, unused):
    response = edit(web_as(staff_admin), unused, "Annual report 2030 (draft)")
    assert response.status_code == 302, response.content[:2000]
    unused.refresh_from_db()
    assert unused.title == "Annual report 2030 (draft)"


def test_a_questionnaire_used_by_reports_is_read_only(web_as, staff_admin, in_use):
    client = web_as(staff_admin)
    page = client.get(change_url("questionnaire", in_use.pk))
    assert page.status_code == 200
    assert "read-only" in page.content.decode()
    assert edit(client, in_use, "Rewritten").status_code == 403
    question = Question.objects.filter(section__questionnaire=in_use).first()
    assert client.post(change_url("question", question.pk), {
        "section": question.section_id, "code": question.code, "text": "Rewritten",
        "type": question.type, "order": 0}).status_code == 403
    assert client.post(f"/admin/reporting/question/{question.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    in_use.refresh_from_db()
    question.refresh_from_db()
    assert in_use.title != "Rewritten" and question.text != "Rewritten"


def test_copy_to_a_new_version_from_the_list(web_as, staff_admin, in_use):
    response = web_as(staff_admin).post("/admin/reporting/questionnaire/", {
        "action": "copy_to_new_version", "_selected_action": [in_use.pk]})
    assert response.status_code == 302
    copy = Questionnaire.objects.get(year=2030, version=in_use.version + 1)
    assert not copy.is_published
    assert (Question.objects.filter(section__questionnaire=copy).count()
            == Question.objects.filter(section__questionnaire=in_use).count())
    # the copy is editable, the original still read-only
    assert edit(web_as(staff_admin), copy, "Annual report 2030, revised").status_code == 302


def test_a_question_cannot_depend_on_a_question_of_another_questionnaire(web_as, staff_admin,
                                                                         unused):
    other = make_questionnaire(year=2031, published=False)
    question = Question.objects.get(section__questionnaire=unused, code="policy-date")
    foreign = Question.objects.get(section__questionnaire=other, code="policy")
    response = web_as(staff_admin).post(change_url("question", question.pk), {
        "section": question.section_id, "code": question.code, "text": question.text,
        "type": question.type, "required": "", "choices": "[]", "order": 1,
        "show_if_question": foreign.pk, "show_if_value": "yes", "prefill": ""})
    assert response.status_code == 200  # the form again, with an error
    question.refresh_from_db()
    assert question.show_if_question.section.questionnaire_id == unused.pk


def test_a_choice_question_needs_its_options(web_as, staff_admin, unused):
    question = Question.objects.get(section__questionnaire=unused, code="channel")
    response = web_as(staff_admin).post(change_url("question", question.pk), {
        "section": question.section_id, "code": question.code, "text": question.text,
        "type": "single", "required": "on", "choices": "[]", "order": 1, "prefill": ""})
    assert response.status_code == 200
    assert "List the options" in response.content.decode()


@pytest.mark.parametrize("role", ["staff_reviewer", "company_admin"])
def test_only_staff_admins_edit_questionnaires(role, request, web_as, unused):
    client = web_as(request.getfixturevalue(role))
    response = edit(client, unused, "Changed")
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/login/" in response["Location"]
    unused.refresh_from_db()
    assert unused.title != "Changed"


def test_staff_browse_reports_in_admin_but_cannot_change_them(web_as, staff_reviewer,
                                                              company_a):
    report = ReportFactory(signatory=company_a, status=ReportStatus.SUBMITTED)
    client = web_as(staff_reviewer)
    listing = client.get("/admin/reporting/report/", {"status__exact": "submitted",
                                                      "signatory__country": "SE"})
    assert listing.status_code == 200
    assert company_a.legal_name in listing.content.decode()
    assert client.get(change_url("report", report.pk)).status_code == 200
    assert client.post(change_url("report", report.pk), {"due_on": "2040-01-01"}
                       ).status_code == 403
    assert client.post(f"/admin/reporting/report/{report.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert Report.objects.filter(pk=report.pk, status=ReportStatus.SUBMITTED).exists()


def test_staff_look_up_certificates_in_admin_but_cannot_change_them(
        web_as, staff_admin, company_a, django_capture_on_commit_callbacks):
    """Certificates change only through the services (numbering, audit, e-mail); the admin lists
    and filters them for central staff and refuses every write."""
    certificate = approve(submitted_report(company_a), staff_admin,
                          django_capture_on_commit_callbacks)
    client = web_as(staff_admin)
    listing = client.get("/admin/reporting/certificate/",
                         {"year": certificate.year, "revoked": "no", "q": certificate.number})
    assert listing.status_code == 200
    assert certificate.number in listing.content.decode()
    assert certificate.number not in client.get("/admin/reporting/certificate/",
                                                {"revoked": "yes"}).content.decode()
    assert client.get(change_url("certificate", certificate.pk)).status_code == 200
    assert client.post(change_url("certificate", certificate.pk),
                       {"valid_until": "2099-12-31"}).status_code == 403
    assert client.post(f"/admin/reporting/certificate/{certificate.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert client.get("/admin/reporting/certificate/add/").status_code == 403
    assert Certificate.objects.get(pk=certificate.pk).valid_until == certificate.valid_until


def test_company_users_do_not_see_certificates_in_admin(web_as, company_admin):
    response = web_as(company_admin).get("/admin/reporting/certificate/")
    assert response.status_code == 302
