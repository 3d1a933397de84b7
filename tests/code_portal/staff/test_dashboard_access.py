"""Who may open the dashboard, its JSON and the summary PDF, and what local representatives see:
their countries only, whatever the filters ask for."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from signatories.models import Signatory
from tests.code_portal.staff.test_dashboard_figures import build_dataset

pytestmark = pytest.mark.django_db


def page_url():
    return reverse("staff-dashboard")


def pdf_url(year=None):
    return reverse("staff-annual-summary", kwargs={"year": year or timezone.localdate().year})


def api_url():
    return reverse("api-staff-dashboard")


@pytest.fixture
def dataset(db, company_a, company_b):
    return build_dataset(size=24)


@pytest.mark.parametrize("persona", ["company_admin", "reporter", "viewer", "outsider"])
def test_company_users_get_404_everywhere(request, dataset, web_as, api_as, persona):
    user = request.getfixturevalue(persona)
    client = web_as(user)
    assert client.get(page_url()).status_code == 404
    assert client.get(pdf_url()).status_code == 404
    assert api_as(user).get(api_url()).status_code == 404


def test_anonymous_is_sent_to_log_in_and_refused_by_the_api(dataset, client, api_client):
    response = client.get(page_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.get(pdf_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert api_client.get(api_url()).status_code in (401, 403)


def test_deactivated_staff_get_nothing(dataset, web_as, staff_reviewer):
    staff_reviewer.is_active = False
    staff_reviewer.save()
    assert web_as(staff_reviewer).get(page_url()).status_code in (302, 404)


@pytest.mark.parametrize("persona", ["staff_reviewer", "staff_admin", "local_rep_sweden",
                                     "local_rep_other_country"])
def test_code_staff_open_page_api_and_pdf(request, dataset, web_as, api_as, persona):
    user = request.getfixturevalue(persona)
    assert web_as(user).get(page_url()).status_code == 200
    assert api_as(user).get(api_url()).status_code == 200
    response = web_as(user).get(pdf_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"


def _pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_local_rep_sees_only_their_country_in_page_api_and_pdf(dataset, web_as, api_as,
                                                               local_rep_sweden):
    swedish = Signatory.objects.filter(country="SE").count()
    assert swedish < Signatory.objects.count()

    page = web_as(local_rep_sweden).get(page_url())
    data = page.context["dashboard"]
    assert data.total == swedish
    assert [b.key for b in data.by_country] == ["SE"]
    html = page.content.decode()
    assert "Thailand" not in html and "Kenya" not in html and "Germany" not in html
    # the country filter offers only their own countries
    assert page.context["countries"] == [("SE", "Sweden")]

    body = api_as(local_rep_sweden).get(api_url()).json()
    assert body["signatories"] == swedish
    assert [row["key"] for row in body["by_country"]] == ["SE"]
    assert {row["country"] for row in body["charts"]["overdue_by_country"]} <= {"SE"}

    text = _pdf_text(web_as(local_rep_sweden).get(pdf_url()))
    assert "Sweden" in text
    for other in ("Thailand", "Kenya", "Germany"):
        assert other not in text


@pytest.mark.parametrize("country", ["TH", "KE"])
def test_local_rep_asking_for_another_country_gets_nothing_of_it(dataset, web_as, api_as,
                                                                 local_rep_sweden, country):
    assert Signatory.objects.filter(country=country).exists()
    body = api_as(local_rep_sweden).get(api_url(), {"country": country}).json()
    assert body["signatories"] == 0
    assert all(f["value"] in (0, None) for f in body["figures"].values())
    text = _pdf_text(web_as(local_rep_sweden).get(pdf_url(), {"country": country}))
    assert "Thailand" not in text.replace("Country: Thailand", "")


def test_central_staff_pdf_covers_every_country(dataset, web_as, staff_reviewer):
    text = _pdf_text(web_as(staff_reviewer).get(pdf_url()))
    for name in ("Sweden", "Thailand", "Kenya", "Germany"):
        assert name in text


def test_summary_of_a_future_or_ancient_year_is_404(dataset, web_as, staff_reviewer):
    year = timezone.localdate().year
    assert web_as(staff_reviewer).get(pdf_url(year + 1)).status_code == 404
    assert web_as(staff_reviewer).get(pdf_url(1990)).status_code == 404
    assert web_as(staff_reviewer).get(pdf_url(year - 1)).status_code == 200


def test_api_and_page_give_the_same_figures(dataset, web_as, api_as, staff_admin):
    params = {"year": timezone.localdate().year, "type": "hotel"}
    page = web_as(staff_admin).get(page_url(), params).context["dashboard"]
    body = api_as(staff_admin).get(api_url(), params).json()
    assert {k: v["value"] for k, v in body["figures"].items()} == {
        f.key: f.value for f in page.figures}
    assert body["filters"] == {"year": params["year"], "country": "", "type": "hotel"}


def test_cached_figures_are_never_shared_across_scopes(dataset, web_as, api_as,
                                                       local_rep_sweden, local_rep_other_country,
                                                       staff_reviewer):
    # one after the other, within the cache period: each sees their own scope
    totals = {}
    for user in (staff_reviewer, local_rep_sweden, local_rep_other_country):
        totals[user.email] = api_as(user).get(api_url()).json()["signatories"]
    assert totals[staff_reviewer.email] == Signatory.objects.count()
    assert totals[local_rep_sweden.email] == Signatory.objects.filter(country="SE").count()
    assert totals[local_rep_other_country.email] == Signatory.objects.filter(country="KE").count()
    page = web_as(local_rep_other_country).get(page_url()).context["dashboard"]
    assert [b.key for b in page.by_country] == ["KE"]
