"""``/api/v1/exports/``: staff lists exported by API clients, always as a job, private to the
requester; the file has the list's filters and the requester's scope."""

from __future__ import annotations

import csv
import io

import pytest

from code_portal.staff.models import ExportJob, ExportStatus
from signatories.models import SignatoryStatus
from tests.factories import SignatoryFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/exports/"


@pytest.fixture
def signatories(db):
    for i in range(6):
        SignatoryFactory(legal_name=f"Api Co {i}", country="SE" if i % 2 else "TH", active=True,
                         status=SignatoryStatus.ACTIVE)


def _post(client, capture, **data):
    with capture(execute=True):
        return client.post(API, {"kind": "signatories", "format": "csv", **data}, format="json")


def test_api_export_is_a_job_whose_file_has_the_filtered_rows(
        api_as, staff_reviewer, signatories, django_capture_on_commit_callbacks):
    client = api_as(staff_reviewer)

    created = _post(client, django_capture_on_commit_callbacks, query="country=SE")

    assert created.status_code == 201, created.content
    job = client.get(f"{API}{created.json()['id']}/").json()
    assert (job["status"], job["total_rows"], job["filters"]) == ("done", 3, {"country": ["SE"]})
    response = client.get(job["download_url"])
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert [r[2] for r in rows[1:]] == ["Api Co 1", "Api Co 3", "Api Co 5"]
    assert response["Cache-Control"] == "private, no-store"


def test_api_export_of_a_local_representative_has_only_their_countries(
        api_as, local_rep_sweden, signatories, django_capture_on_commit_callbacks):
    client = api_as(local_rep_sweden)

    created = _post(client, django_capture_on_commit_callbacks)

    job = ExportJob.objects.get(pk=created.json()["id"])
    assert job.status == ExportStatus.DONE and job.total_rows == 3


def test_api_export_refuses_unknown_lists_and_formats(api_as, staff_reviewer,
                                                     django_capture_on_commit_callbacks):
    client = api_as(staff_reviewer)

    assert _post(client, django_capture_on_commit_callbacks, kind="users").status_code == 400
    assert _post(client, django_capture_on_commit_callbacks, format="pdf").status_code == 400
    assert not ExportJob.objects.exists()


def test_another_users_job_is_not_found_and_company_users_cannot_export(
        api_as, staff_reviewer, staff_admin, outsider, company_admin, signatories,
        django_capture_on_commit_callbacks):
    job_id = _post(api_as(staff_reviewer), django_capture_on_commit_callbacks).json()["id"]

    assert api_as(staff_admin).get(f"{API}{job_id}/").status_code == 404
    assert api_as(staff_admin).get(f"{API}{job_id}/download/").status_code == 404
    assert api_as(staff_admin).get(API).json()["count"] == 0
    for user in (outsider, company_admin):
        client = api_as(user)
        assert client.get(API).status_code == 404
        assert client.get(f"{API}{job_id}/").status_code == 404
        assert _post(client, django_capture_on_commit_callbacks).status_code == 404
    assert ExportJob.objects.count() == 1


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_jobs_cannot_be_changed_or_deleted_through_the_api(api_as, staff_reviewer, method):
    job = ExportJob.objects.create(requested_by=staff_reviewer, kind="audit", format="csv")

    response = getattr(api_as(staff_reviewer), method)(f"{API}{job.pk}/", {"status": "done"},
                                                       format="json")

    assert response.status_code == 405
    assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.PENDING
