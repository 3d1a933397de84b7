"""Exports of the staff lists: the list's filters exactly, CSV and XLSX, scope per role, small
exports at once and large ones as a job (progress page, private download, e-mail)."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.urls import reverse
from openpyxl import load_workbook

from code_portal.audit import audit_record
from code_portal.models import AuditEvent
from code_portal.staff import services
from code_portal.staff.models import ExportJob, ExportStatus
from code_portal.staff.tasks import run_export
from reporting.models import ReportStatus
from signatories.models import SignatoryStatus, SignatoryType
from tests.factories import SignatoryFactory, StaffFactory
from tests.reporting.factories import ReportFactory
from tests.training.factories import HeadcountFactory, RecordFactory, TraineeFactory

pytestmark = pytest.mark.django_db

CREATE = reverse("staff-export-create")


def _content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _rows(response, fmt: str) -> list[list]:
    assert response.status_code == 200, response.content[:500]
    return _csv(_content(response)) if fmt == "csv" else _xlsx(_content(response))


def _export(client, kind: str, fmt: str = "csv", query: str = ""):
    return client.post(CREATE, {"kind": kind, "format": fmt, "query": query})


def _names_on_list_page(client, url: str, query: str, link_prefix: str) -> list[str]:
    """The company names a list page shows, every page of it, in its order."""
    import re

    names, page = [], 1
    while True:
        html = client.get(f"{url}?{query}&page={page}").content.decode()
        names += re.findall(rf'<a href="{link_prefix}\d+/[^"]*">([^<]+)</a>', html)
        if 'rel="next"' not in html:
            return names
        page += 1


@pytest.fixture
def many_signatories(db):
    made = []
    for i in range(30):
        made.append(SignatoryFactory(
            legal_name=f"Company {i:02d}", country=["SE", "TH", "KE"][i % 3],
            type=[SignatoryType.TOUR_OPERATOR, SignatoryType.HOTEL][i % 2],
            active=i % 4 != 0, status=SignatoryStatus.APPLIED if i % 4 == 0
            else SignatoryStatus.ACTIVE))
    return made


# --- Exactly the list's filters -------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_signatory_export_has_exactly_the_rows_of_the_filtered_list(web_as, staff_reviewer,
                                                                   many_signatories, fmt):
    client = web_as(staff_reviewer)
    query = urlencode({"country": "SE", "status": "active", "type": "hotel"}, doseq=True)
    listed = _names_on_list_page(client, reverse("staff-signatory-list"), query,
                                 "/staff/signatories/")

    rows = _rows(_export(client, "signatories", fmt, query), fmt)

    assert rows[0][:3] == ["Number (portal)", "Membership number", "Legal name"]
    assert [r[2] for r in rows[1:]] == listed
    assert listed and all(r[5] == "Sweden" and r[6] == "Active" and r[4] == "Hotel / accommodation"
                          for r in rows[1:])


def test_signatory_export_covers_every_page_of_the_list_not_only_the_first(
        web_as, staff_reviewer, many_signatories):
    client = web_as(staff_reviewer)
    listed = _names_on_list_page(client, reverse("staff-signatory-list"), "",
                                 "/staff/signatories/")

    rows = _rows(_export(client, "signatories", "csv", "page=2"), "csv")

    assert len(listed) == 30  # two pages of 25
    assert [r[2] for r in rows[1:]] == listed


def test_report_queue_export_has_the_rows_of_the_filtered_queue(web_as, staff_reviewer):
    se = SignatoryFactory(legal_name="Swedish Tours", country="SE", active=True,
                          status=SignatoryStatus.ACTIVE)
    th = SignatoryFactory(legal_name="Thai Tours", country="TH", active=True,
                          status=SignatoryStatus.ACTIVE)
    ReportFactory(signatory=se, year=2030, status=ReportStatus.SUBMITTED)
    ReportFactory(signatory=th, year=2030, status=ReportStatus.UNDER_REVIEW)
    ReportFactory(signatory=SignatoryFactory(legal_name="Draft Co", country="SE", active=True,
                                             status=SignatoryStatus.ACTIVE),
                  year=2030, status=ReportStatus.DRAFT)  # not in the queue
    client = web_as(staff_reviewer)

    everything = _rows(_export(client, "reports", "xlsx"), "xlsx")
    swedish = _rows(_export(client, "reports", "csv", "country=SE&year=2030"), "csv")

    assert sorted(r[2] for r in everything[1:]) == ["Swedish Tours", "Thai Tours"]
    assert [r[2] for r in swedish[1:]] == ["Swedish Tours"]
    assert swedish[1][6] == "Submitted" and swedish[1][3] == "2030"


def test_training_coverage_export_uses_the_coverage_page_filters(web_as, staff_reviewer):
    for name, country, trained in (("Alpha Tours", "SE", 2), ("Gamma Tours", "TH", 1)):
        signatory = SignatoryFactory(legal_name=name, country=country, active=True,
                                     status=SignatoryStatus.ACTIVE)
        HeadcountFactory(signatory=signatory, employees=4, customer_facing_employees=0)
        for _ in range(trained):
            RecordFactory(trainee=TraineeFactory(signatory=signatory, is_customer_facing=False))

    rows = _rows(_export(web_as(staff_reviewer), "training_coverage", "csv", "country=SE"), "csv")

    assert [(r[1], r[5], r[6], r[7]) for r in rows[1:]] == [("Alpha Tours", "4", "2", "50.0")]


def test_audit_export_has_the_filtered_events_with_readable_changes(web_as, staff_reviewer,
                                                                  company_a, company_b):
    audit_record(actor=staff_reviewer, action="signatory.suspend", obj=company_a,
                 signatory=company_a, from_state="active", to_state="suspended", reason="Late",
                 changes={"status": {"from": "active", "to": "suspended"}})
    audit_record(actor=staff_reviewer, action="signatory.suspend", obj=company_b,
                 signatory=company_b, reason="Late too")

    rows = _rows(_export(web_as(staff_reviewer), "audit", "xlsx",
                         f"action=signatory.suspend&signatory={company_a.pk}"), "xlsx")

    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Actor"] == staff_reviewer.email
    assert row["Signatory"] == "Nordic Tours AB"
    assert (row["From"], row["To"], row["Reason"]) == ("active", "suspended", "Late")
    assert row["Changes (before → after)"] == "Status: active → suspended"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_text_a_spreadsheet_would_run_as_a_formula_is_neutralised(web_as, staff_reviewer,
                                                                   company_a, fmt):
    audit_record(actor=staff_reviewer, action="signatory.reject", obj=company_a,
                 signatory=company_a, reason='=HYPERLINK("http://evil.example","click")')

    data = _content(_export(web_as(staff_reviewer), "audit", fmt))

    if fmt == "csv":
        rows = _csv(data)
        assert rows[1][rows[0].index("Reason")] == '\'=HYPERLINK("http://evil.example","click")'
    else:
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        header = [c.value for c in sheet[1]]
        cell = sheet.cell(row=2, column=header.index("Reason") + 1)
        assert cell.data_type != "f"  # text, not a formula
        assert cell.value == '=HYPERLINK("http://evil.example","click")'


# --- Scope --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["signatories", "reports", "training_coverage", "audit"])
def test_local_representative_exports_contain_only_their_countries(web_as, local_rep_sweden, kind,
                                                                   company_a, company_b,
                                                                   staff_admin):
    for company in (company_a, company_b):
        ReportFactory(signatory=company, year=2030, status=ReportStatus.SUBMITTED)
        audit_record(actor=staff_admin, action="signatory.flag_overdue", obj=company,
                     signatory=company)
    audit_record(actor=staff_admin, action="user.api_token_regenerated", obj=staff_admin)

    rows = _rows(_export(web_as(local_rep_sweden), kind, "csv"), "csv")

    text = "\n".join(",".join(r) for r in rows[1:])
    assert "Nordic Tours AB" in text
    assert company_b.legal_name not in text
    assert "api_token" not in text
    assert "Thailand" not in text


@pytest.mark.parametrize("persona", ["company_admin", "viewer", "outsider"])
def test_company_users_cannot_export_or_see_exports(request, web_as, persona, staff_reviewer):
    job = ExportJob.objects.create(requested_by=staff_reviewer, kind="signatories", format="csv")
    client = web_as(request.getfixturevalue(persona))

    assert _export(client, "signatories").status_code == 404
    for name in ("staff-export-detail", "staff-export-progress", "staff-export-download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.get(reverse("staff-export-list")).status_code == 404
    assert not ExportJob.objects.exclude(pk=job.pk).exists()


def test_export_is_a_post_and_refuses_unknown_lists(web_as, staff_reviewer):
    client = web_as(staff_reviewer)

    assert client.get(CREATE).status_code == 405
    assert _export(client, "users").status_code == 400
    assert _export(client, "signatories", "pdf").status_code == 400


def test_every_export_is_recorded_in_the_audit_trail_and_the_users_list(web_as, staff_reviewer,
                                                                        company_a):
    client = web_as(staff_reviewer)

    _content(_export(client, "signatories", "csv", "country=SE"))

    job = ExportJob.objects.get()
    assert (job.kind, job.format, job.filters, job.inline, job.total_rows) == (
        "signatories", "csv", {"country": ["SE"]}, True, 1)
    event = AuditEvent.objects.get(action="export.created")
    assert event.changes["filters"] == {"to": "country=SE"}
    assert event.actor == staff_reviewer
    assert "Downloaded at once" in client.get(reverse("staff-export-list")).content.decode()


# --- Large exports: a job -----------------------------------------------------------------------

@pytest.fixture
def small_threshold(settings):
    settings.STAFF_EXPORT_INLINE_MAX_ROWS = 5
    return 5


@pytest.fixture
def export_job(django_capture_on_commit_callbacks):
    """Ask for an export and run what is scheduled on commit (the eager task, its e-mail)."""
    def run(client, kind, fmt="csv", query=""):
        with django_capture_on_commit_callbacks(execute=True):
            return _export(client, kind, fmt, query)
    return run


def test_large_export_runs_as_a_job_with_a_progress_page_a_private_download_and_an_email(
        web_as, staff_reviewer, many_signatories, small_threshold, export_job, settings):
    client = web_as(staff_reviewer)

    response = export_job(client, "signatories", "xlsx", "country=SE")

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff-export-detail", args=[job.pk])
    # eager task: already written
    assert (job.status, job.total_rows, job.processed_rows, job.inline) == (
        ExportStatus.DONE, 10, 10, False)
    page = client.get(response["Location"]).content.decode()
    download = reverse("staff-export-download", args=[job.pk])
    assert download in page
    progress = client.get(reverse("staff-export-progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "hx-get" not in progress.content.decode()  # finished: polling stops
    rows = _xlsx(_content(client.get(download)))
    listed = _names_on_list_page(client, reverse("staff-signatory-list"), "country=SE",
                                 "/staff/signatories/")
    assert [r[2] for r in rows[1:]] == listed
    message = mail.outbox[-1]
    assert message.to == [staff_reviewer.email]
    assert "Signatories" in message.subject and "ready" in message.subject
    assert settings.SITE_URL + reverse("staff-export-detail", args=[job.pk]) in message.body


def test_running_job_page_polls_and_shows_the_progress(web_as, staff_reviewer):
    job = ExportJob.objects.create(requested_by=staff_reviewer, kind="audit", format="csv",
                                   status=ExportStatus.RUNNING, total_rows=4000,
                                   processed_rows=1000)

    html = web_as(staff_reviewer).get(reverse("staff-export-detail", args=[job.pk])
                                      ).content.decode()

    assert f'hx-get="{reverse("staff-export-progress", args=[job.pk])}"' in html
    assert 'value="25"' in html and "1,000 of 4,000 rows" in html


def test_another_staff_users_export_is_not_found(web_as, staff_reviewer, staff_admin,
                                                 many_signatories, small_threshold, export_job):
    export_job(web_as(staff_reviewer), "signatories", "csv")
    job = ExportJob.objects.get()
    client = web_as(staff_admin)

    for name in ("staff-export-detail", "staff-export-progress", "staff-export-download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert reverse("staff-export-detail", args=[job.pk]) not in client.get(
        reverse("staff-export-list")).content.decode()


def test_local_representatives_large_export_has_only_their_countries(
        web_as, local_rep_sweden, many_signatories, small_threshold, export_job):
    client = web_as(local_rep_sweden)

    export_job(client, "signatories", "csv")

    job = ExportJob.objects.get()
    rows = _csv(_content(client.get(reverse("staff-export-download", args=[job.pk]))))
    assert len(rows) == 11 and {r[5] for r in rows[1:]} == {"Sweden"}


def test_running_the_task_again_writes_nothing_twice(web_as, staff_reviewer, many_signatories,
                                                     small_threshold, export_job):
    export_job(web_as(staff_reviewer), "signatories", "csv")
    job = ExportJob.objects.get()
    sent, file_name = len(mail.outbox), job.file.name

    result = run_export.delay(job.pk).get()

    assert result["status"] == "skipped"
    assert len(mail.outbox) == sent
    assert ExportJob.objects.get().file.name == file_name


def test_a_requester_who_lost_their_staff_role_gets_a_failed_job(staff_reviewer,
                                                                many_signatories,
                                                                small_threshold,
                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job, export = services.export_request(actor=staff_reviewer, kind="signatories",
                                              fmt="csv", params={})
    assert export is None
    staff_reviewer.staff_role = ""
    staff_reviewer.save()

    services.export_execute(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and not job.file
    assert "no longer allowed" in job.error


def test_progress_is_recorded_while_rows_are_written(staff_reviewer, small_threshold,
                                                     monkeypatch,
                                                     django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "PROGRESS_EVERY", 4)
    for _ in range(10):
        SignatoryFactory(country="SE")
    seen = []
    with django_capture_on_commit_callbacks(execute=False):
        job, _export_ = services.export_request(actor=staff_reviewer, kind="signatories",
                                                fmt="csv", params={})

    services.export_execute(job_id=job.pk, on_progress=lambda done, total: seen.append(
        (done, total, ExportJob.objects.get(pk=job.pk).processed_rows)))

    assert seen == [(0, 10, 0), (4, 10, 4), (8, 10, 8)]
    assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.DONE


def test_another_staff_member_cannot_start_a_job_for_someone_else(web_as, staff_admin):
    """The job belongs to whoever posts: there is no requester field to forge."""
    other = StaffFactory(email="other@thecode.example")
    web_as(staff_admin).post(CREATE, {"kind": "signatories", "format": "csv",
                                      "requested_by": other.pk})

    assert list(ExportJob.objects.values_list("requested_by", flat=True)) == [staff_admin.pk]


def test_export_files_are_deleted_after_the_keeping_period_and_the_job_stays(
        web_as, staff_reviewer, many_signatories, small_threshold, export_job, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.STAFF_EXPORT_KEEP_DAYS = 7
    client = web_as(staff_reviewer)
    export_job(client, "signatories", "csv")
    job = ExportJob.objects.get()
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name)

    assert services.export_purge_expired(now=timezone.now() + timedelta(days=6)) == 0
    assert services.export_purge_expired(now=timezone.now() + timedelta(days=8)) == 1

    job.refresh_from_db()
    assert not job.file and not storage.exists(name)
    assert client.get(reverse("staff-export-download", args=[job.pk])).status_code == 404
    assert "no longer available" in client.get(
        reverse("staff-export-detail", args=[job.pk])).content.decode()


def test_a_local_representative_asking_for_another_country_gets_no_rows(web_as, local_rep_sweden,
                                                                        company_a, company_b):
    rows = _rows(_export(web_as(local_rep_sweden), "signatories", "csv", "country=TH"), "csv")

    assert rows[1:] == []


@pytest.mark.parametrize("kind", ["signatories", "reports", "audit"])
def test_export_queries_do_not_grow_with_rows(web_as, staff_reviewer, staff_admin, kind):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n: int) -> None:
        for _ in range(n):
            report = ReportFactory(status=ReportStatus.SUBMITTED)
            audit_record(actor=staff_admin, action="report.submitted", obj=report,
                         signatory=report.signatory)

    client = web_as(staff_reviewer)
    add(2)
    _content(_export(client, kind, "csv"))  # warm-up: session, content types
    with CaptureQueriesContext(connection) as few:
        assert len(_rows(_export(client, kind, "csv"), "csv")) > 2
    add(40)

    with CaptureQueriesContext(connection) as many:
        rows = _rows(_export(client, kind, "csv"), "csv")

    assert len(rows) > 42
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_partner_confirmation_rates_export_has_the_pages_figures_in_the_users_scope(
        web_as, staff_reviewer, local_rep_sweden, company_a, company_b, monkeypatch):
    from django.utils import timezone

    from code_portal.staff import exports
    from signatories.partners import services as partner_services
    from signatories.partners.selectors import rates_for_signatories
    from tests.signatories.partners.factories import PartnerFactory, RequestFactory

    monkeypatch.setattr(exports, "PARTNER_BATCH", 1)  # several batches
    for company, confirmed in ((company_a, 1), (company_b, 0)):
        for i in range(2):
            partner = PartnerFactory(signatory=company, carries_clause=i == 0)
            if i < confirmed:
                req = RequestFactory(partner=partner)
                partner_services.confirmation_confirm(request_id=req.pk, name="Nok",
                                                      position="GM", ip="192.0.2.1",
                                                      user_agent="UA")
    page = rates_for_signatories([company_a.pk, company_b.pk], timezone.localdate())

    rows = _rows(_export(web_as(staff_reviewer), "partner_rates", "csv"), "csv")
    mine = _rows(_export(web_as(local_rep_sweden), "partner_rates", "xlsx"), "xlsx")

    exported = {r[1]: [int(r[4]), int(r[5]), r[6]] for r in rows[1:]}
    assert exported == {
        company.legal_name: [page[company.pk]["partners"], page[company.pk]["confirmed"],
                             "" if page[company.pk]["share"] is None
                             else str(page[company.pk]["share"])]
        for company in (company_a, company_b)}
    assert exported[company_a.legal_name] == [2, 1, "50.0"]
    assert [r[1] for r in mine[1:]] == [company_a.legal_name]


def test_a_run_that_loses_the_race_to_finish_leaves_no_file_behind(
        staff_reviewer, many_signatories, small_threshold, monkeypatch, tmp_path,
        django_capture_on_commit_callbacks):
    from code_portal.staff import exports

    with django_capture_on_commit_callbacks(execute=False):
        job, _export_ = services.export_request(actor=staff_reviewer, kind="signatories",
                                                fmt="csv", params={})
    write = exports.write_file

    def write_while_another_run_finishes(export, fmt):
        handle = write(export, fmt)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.DONE, file="other.csv")
        return handle

    monkeypatch.setattr(exports, "write_file", write_while_another_run_finishes)

    assert services.export_execute(job_id=job.pk) is None

    assert ExportJob.objects.get(pk=job.pk).file.name == "other.csv"
    written = list((tmp_path / "media").rglob("*.csv"))
    assert written == []
