"""Partner import: row errors with line numbers, nothing imported from a file with errors
unless asked, valid rows on request, re-runs write nothing twice, file-level errors at upload."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from code_portal.errors import DomainError
from signatories.partners import importer, services
from signatories.partners.models import ImportStatus, Partner

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "name;kind;country;city;contact_email;website;contract_reference;contract_start;"
    "contract_end;carries_clause\n"
    "Sea Inn;hotel;TH;Krabi;gm@seainn.example;seainn.example;C-1;2026-01-01;2026-12-31;yes\n"
    ";hotel;TH;;;;;;;no\n"
    "Bad Mail Lodge;hotel;Thailand;;not-an-email;;;;;ja\n"
    "Reverse Dates;transport;SE;;;;;2026-05-01;2026-01-01;nej\n"
    "Unknown Kind;spaceship;Atlantis;;;;;;;maybe\n"
    "Sea Inn;hotel;TH;;;;;;;yes\n"
    "Phi Phi Villa;;Thailand;;;;;;;ja\n"
)


def _upload(actor, signatory, content: bytes, name="partners.csv", valid_rows=False,
            oncommit=None):
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    with oncommit(execute=True):
        job = services.partner_import_create(actor=actor, signatory=signatory, upload=upload,
                                             import_valid_rows=valid_rows)
    job.refresh_from_db()
    return job


def test_a_file_with_errors_imports_nothing_and_lists_each_line(company_admin, company_a,
                                                                oncommit):
    job = _upload(company_admin, company_a, GOOD_AND_BAD.encode(), oncommit=oncommit)
    assert job.status == ImportStatus.INVALID
    lines = {e["line"]: " ".join(e["errors"]) for e in job.errors}
    assert set(lines) == {3, 4, 5, 6, 7}
    assert "name" in lines[3]
    assert "not-an-email" in lines[4]
    assert "ends before it starts" in lines[5]
    assert "spaceship" in lines[6] and "Atlantis" in lines[6] and "maybe" in lines[6]
    assert "line 2" in lines[7]
    assert not Partner.objects.filter(signatory=company_a).exists()


def test_valid_rows_are_imported_on_request(company_admin, company_a, oncommit):
    job = _upload(company_admin, company_a, GOOD_AND_BAD.encode(), valid_rows=True,
                  oncommit=oncommit)
    assert job.status == ImportStatus.DONE and job.created_partners == 2
    sea = Partner.objects.get(signatory=company_a, name="Sea Inn")
    assert (sea.country, sea.website, sea.carries_clause, str(sea.contract_end)) == (
        "TH", "https://seainn.example", True, "2026-12-31")
    villa = Partner.objects.get(name="Phi Phi Villa")  # a country name, "ja", kind by default
    assert (villa.country, villa.carries_clause, villa.kind) == ("TH", True, "hotel")
    # a second import of the same partners: already in the list
    again = _upload(company_admin, company_a, GOOD_AND_BAD.encode(), valid_rows=True,
                    oncommit=oncommit)
    assert again.created_partners == 0
    assert any("already in your list" in " ".join(e["errors"]) for e in again.errors)


def test_rerun_of_the_same_job_writes_nothing_twice(company_admin, company_a, oncommit):
    job = _upload(company_admin, company_a, b"name,country\nA,TH\nB,SE\n", oncommit=oncommit)
    assert job.created_partners == 2
    type(job).objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)  # a lost worker
    importer.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.errors == []
    assert Partner.objects.filter(signatory=company_a).count() == 2


def test_xlsx_with_dates_and_country_names(company_admin, company_a, oncommit):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "country", "contract_start", "carries_clause", "language"])
    import datetime

    sheet.append(["Fjord Hotel", "Norway", datetime.datetime(2026, 2, 1), "yes", "sv"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = _upload(company_admin, company_a, buffer.getvalue(), name="p.xlsx", oncommit=oncommit)
    assert job.status == ImportStatus.DONE, job.errors
    partner = Partner.objects.get(signatory=company_a)
    assert (partner.country, str(partner.contract_start), partner.language) == (
        "NO", "2026-02-01", "sv")


def test_wrong_columns_are_refused_at_upload(company_admin, company_a):
    upload = SimpleUploadedFile("p.csv", b"hotel,land\nA,TH\n", content_type="text/csv")
    with pytest.raises(DomainError) as exc:
        services.partner_import_create(actor=company_admin, signatory=company_a, upload=upload)
    assert exc.value.field == "file" and "name" in exc.value.message


def test_import_page_shows_row_errors(web_as, company_admin, company_a, oncommit):
    client = web_as(company_admin)
    upload = SimpleUploadedFile("p.csv", GOOD_AND_BAD.encode(), content_type="text/csv")
    with oncommit(execute=True):
        response = client.post(reverse("partner-import", args=[company_a.pk]), {"file": upload})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "5 rows with errors" in page and "not-an-email" in page


def test_viewer_cannot_import_and_template_downloads(web_as, viewer, company_a):
    client = web_as(viewer)
    upload = SimpleUploadedFile("p.csv", b"name,country\nA,TH\n", content_type="text/csv")
    assert client.post(reverse("partner-import", args=[company_a.pk]),
                       {"file": upload}).status_code == 403
    template = client.get(reverse("partner-import-template", args=[company_a.pk, "csv"]))
    assert b"".join(template.streaming_content).decode().lstrip("\ufeff").startswith(
        "name,kind,country")
