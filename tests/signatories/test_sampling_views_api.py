"""Audit sampling pages and API: permission per role, tenant isolation (404), audited edits,
bounded queries."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from code_portal.models import AuditEvent, User
from signatories import sampling
from signatories.models import (
    AuditItem,
    AuditItemStatus,
    AuditOutcome,
    AuditSample,
    SignatoryStatus,
    SignatoryType,
)
from tests.factories import SignatoryFactory

pytestmark = pytest.mark.django_db

COMPANY_PERSONAS = ["company_admin", "reporter", "viewer", "outsider"]


def active(n, **kwargs):
    return [SignatoryFactory(status=SignatoryStatus.ACTIVE, active=True, **kwargs)
            for _ in range(n)]


@pytest.fixture
def swedish(company_a, staff_reviewer):
    active(4, country="SE")
    return sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=3, seed="se")


@pytest.fixture
def thai(company_b, staff_reviewer):
    active(2, country="TH")
    return sampling.audit_sample_draw(actor=staff_reviewer, country="TH", size=2, seed="th")


@pytest.fixture
def everywhere(company_a, company_b, staff_admin):
    return sampling.audit_sample_draw(actor=staff_admin, size=2, seed="all")


def page_urls(sample):
    item = sample.items.order_by("position").first()
    return [reverse("staff-audit-sample", args=[sample.pk]), reverse("staff-audit-item",
                                                                     args=[item.pk])]


def api_urls(sample):
    item = sample.items.order_by("position").first()
    return [f"/api/v1/audit-samples/{sample.pk}/", f"/api/v1/audit-items/{item.pk}/",
            f"/api/v1/audit-items/?sample={sample.pk}"]


# --- pages --------------------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["staff_reviewer", "staff_admin"])
def test_central_staff_open_every_sampling_page(request, web_as, persona, swedish, thai,
                                                everywhere):
    client = web_as(request.getfixturevalue(persona))
    assert client.get(reverse("staff-audit-samples")).status_code == 200
    assert client.get(reverse("staff-audit-sample-draw")).status_code == 200
    for sample in (swedish, thai, everywhere):
        for url in page_urls(sample):
            assert client.get(url).status_code == 200, url


def test_local_rep_sees_their_countrys_samples_only(web_as, local_rep_sweden, swedish, thai,
                                                    everywhere):
    client = web_as(local_rep_sweden)
    listed = client.get(reverse("staff-audit-samples")).context["page"]
    assert list(listed) == [swedish]
    for url in page_urls(swedish):
        assert client.get(url).status_code == 200
    for sample in (thai, everywhere):
        for url in page_urls(sample):
            assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("persona", COMPANY_PERSONAS)
def test_company_users_get_404_on_every_sampling_page(request, web_as, persona, swedish, thai):
    client = web_as(request.getfixturevalue(persona))
    urls = [reverse("staff-audit-samples"), reverse("staff-audit-sample-draw"),
            *page_urls(swedish), *page_urls(thai)]
    for url in urls:
        assert client.get(url).status_code == 404, url
    item = swedish.items.first()
    assert client.post(reverse("staff-audit-item", args=[item.pk]),
                       {"status": "closed", "outcome": "compliant"}).status_code == 404
    assert client.post(reverse("staff-audit-sample-draw"), {"size": 1}).status_code == 404
    assert AuditSample.objects.count() == 2


def test_anonymous_visitors_are_sent_to_log_in(client, swedish):
    response = client.get(reverse("staff-audit-samples"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_draw_a_sample_from_the_form(web_as, staff_reviewer, company_a):
    hotels = active(6, country="SE", type=SignatoryType.HOTEL)
    active(3, country="SE", type=SignatoryType.AIRLINE)
    client = web_as(staff_reviewer)
    response = client.post(reverse("staff-audit-sample-draw"), {
        "title": "Hotels 2026", "country": "SE", "types": [SignatoryType.HOTEL],
        "percentage": "50", "seed": "hotels"})
    sample = AuditSample.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff-audit-sample", args=[sample.pk])
    assert (sample.title, sample.seed, sample.population_size, sample.sample_size) == (
        "Hotels 2026", "hotels", 6, 3)
    assert set(sample.items.values_list("signatory_id", flat=True)) <= {h.pk for h in hotels}
    page = client.get(response["Location"])
    assert "hotels" in page.content.decode()


def test_the_draw_form_asks_for_a_size_or_a_percentage(web_as, staff_reviewer, company_a):
    response = web_as(staff_reviewer).post(reverse("staff-audit-sample-draw"),
                                           {"country": "SE"})
    assert response.status_code == 400
    assert not AuditSample.objects.exists()


def test_local_rep_form_offers_only_their_countries(web_as, local_rep_sweden, company_a,
                                                    company_b):
    client = web_as(local_rep_sweden)
    form = client.get(reverse("staff-audit-sample-draw")).context["form"]
    assert [code for code, _ in form.fields["country"].choices] == ["SE"]
    response = client.post(reverse("staff-audit-sample-draw"), {"country": "TH", "size": "1"})
    assert response.status_code == 400
    response = client.post(reverse("staff-audit-sample-draw"), {"country": "", "size": "1"})
    assert response.status_code == 400
    assert not AuditSample.objects.exists()
    assert client.post(reverse("staff-audit-sample-draw"),
                       {"country": "SE", "size": "1"}).status_code == 302


def test_staff_update_an_item_and_the_change_is_audited(web_as, staff_reviewer, staff_admin,
                                                        swedish):
    item = swedish.items.order_by("position").first()
    follow_up = timezone.localdate() + timedelta(days=14)
    response = web_as(staff_reviewer).post(reverse("staff-audit-item", args=[item.pk]), {
        "status": "in_progress", "auditor": staff_admin.pk, "findings": "Clause missing.",
        "outcome": "", "follow_up_on": follow_up.isoformat()})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.auditor, item.findings, item.follow_up_on) == (
        "in_progress", staff_admin, "Clause missing.", follow_up)
    event = AuditEvent.objects.get(action="audit_item.updated", object_id=str(item.pk))
    assert event.actor == staff_reviewer
    assert set(event.changes) == {"status", "auditor", "findings", "follow_up_on"}


def test_closing_without_outcome_shows_the_error_on_the_form(web_as, staff_reviewer, swedish):
    item = swedish.items.first()
    response = web_as(staff_reviewer).post(reverse("staff-audit-item", args=[item.pk]),
                                           {"status": "closed"})
    assert response.status_code == 400
    assert response.context["form"].errors["outcome"]


def test_an_overdue_follow_up_shows_in_the_sample(web_as, staff_reviewer, swedish):
    item = swedish.items.order_by("position").first()
    sampling.audit_item_update(item=item, actor=staff_reviewer, data={
        "follow_up_on": timezone.localdate() - timedelta(days=3)})
    client = web_as(staff_reviewer)
    detail = client.get(reverse("staff-audit-sample", args=[swedish.pk]))
    assert detail.context["sample"].overdue == 1
    assert detail.content.decode().count('class="overdue"') == 1
    listed = client.get(reverse("staff-audit-samples")).context["page"][0]
    assert listed.overdue == 1
    sampling.audit_item_update(item=item, actor=staff_reviewer, data={
        "status": AuditItemStatus.CLOSED, "outcome": AuditOutcome.COMPLIANT})
    detail = client.get(reverse("staff-audit-sample", args=[swedish.pk]))
    assert detail.context["sample"].overdue == 0
    assert 'class="overdue"' not in detail.content.decode()


def test_the_sample_page_checks_the_draw_again(web_as, staff_reviewer, swedish):
    response = web_as(staff_reviewer).get(reverse("staff-audit-sample", args=[swedish.pk]),
                                          {"verify": "1"})
    assert response.context["verification"].same_sample


# --- API ----------------------------------------------------------------------------------------

def test_api_lists_samples_in_scope(api_as, staff_reviewer, local_rep_sweden,
                                    local_rep_other_country, swedish, thai, everywhere):
    def ids(user):
        return {s["id"] for s in api_as(user).get("/api/v1/audit-samples/").json()["results"]}

    assert ids(staff_reviewer) == {swedish.pk, thai.pk, everywhere.pk}
    assert ids(local_rep_sweden) == {swedish.pk}
    assert ids(local_rep_other_country) == set()


def test_api_draws_and_returns_the_recorded_sample(api_as, staff_admin, company_a):
    active(9, country="SE", type=SignatoryType.HOTEL)
    response = api_as(staff_admin).post("/api/v1/audit-samples/", {
        "country": "SE", "types": ["hotel"], "size": 4, "seed": "api-seed"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["seed"], body["population_size"], body["sample_size"], body["drawn_by"]) == (
        "api-seed", 9, 4, staff_admin.email)
    assert [i["position"] for i in body["items"]] == [1, 2, 3, 4]
    again = api_as(staff_admin).post("/api/v1/audit-samples/", {
        "country": "SE", "types": ["hotel"], "size": 4, "seed": "api-seed"}, format="json")
    assert [i["signatory"] for i in again.json()["items"]] == [
        i["signatory"] for i in body["items"]]


def test_api_draw_errors(api_as, staff_admin, local_rep_sweden, company_a):
    assert api_as(staff_admin).post("/api/v1/audit-samples/", {"country": "SE"},
                                    format="json").status_code == 400
    assert api_as(local_rep_sweden).post("/api/v1/audit-samples/", {"country": "TH", "size": 1},
                                         format="json").status_code == 403
    assert api_as(local_rep_sweden).post("/api/v1/audit-samples/", {"size": 1},
                                         format="json").status_code == 400
    assert not AuditSample.objects.exists()


def test_api_updates_an_item_and_audits_it(api_as, staff_reviewer, local_rep_sweden, swedish):
    item = swedish.items.order_by("position").first()
    response = api_as(local_rep_sweden).patch(f"/api/v1/audit-items/{item.pk}/", {
        "status": "closed", "outcome": "major_findings", "findings": "No training at all.",
        "auditor": local_rep_sweden.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "closed"
    assert response.json()["closed_at"]
    event = AuditEvent.objects.get(
        action="audit_item.updated", object_id=str(item.pk),
        content_type=ContentType.objects.get_for_model(AuditItem))
    assert event.actor == local_rep_sweden
    assert event.changes["outcome"] == {"from": "", "to": "major_findings"}
    bad = api_as(staff_reviewer).patch(f"/api/v1/audit-items/{item.pk}/",
                                       {"status": "in_progress", "outcome": "", "auditor": None},
                                       format="json")
    assert bad.status_code == 200
    closing = api_as(staff_reviewer).patch(f"/api/v1/audit-items/{item.pk}/",
                                           {"status": "closed"}, format="json")
    assert closing.status_code == 400 and "outcome" in closing.json()


def test_api_marks_overdue_items(api_as, staff_reviewer, swedish):
    item = swedish.items.order_by("position").first()
    api = api_as(staff_reviewer)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert api.patch(f"/api/v1/audit-items/{item.pk}/", {"follow_up_on": yesterday},
                     format="json").json()["overdue"] is True
    assert api.get(f"/api/v1/audit-samples/{swedish.pk}/").json()["overdue"] == 1


@pytest.mark.parametrize("persona", ["local_rep_other_country", *COMPANY_PERSONAS])
def test_api_is_404_for_those_who_may_not_see_the_sample(request, api_as, persona, swedish):
    client = api_as(request.getfixturevalue(persona))
    for url in api_urls(swedish):
        assert client.get(url).status_code == 404, url
    item = swedish.items.first()
    response = client.patch(f"/api/v1/audit-items/{item.pk}/", {"findings": "planted"},
                            format="json")
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.findings == ""


@pytest.mark.parametrize("persona", COMPANY_PERSONAS)
def test_api_does_not_exist_for_company_users(request, api_as, persona, swedish):
    client = api_as(request.getfixturevalue(persona))
    assert client.get("/api/v1/audit-samples/").status_code == 404
    assert client.get("/api/v1/audit-items/").status_code == 404
    assert client.post("/api/v1/audit-samples/", {"country": "SE", "size": 1},
                       format="json").status_code == 404
    assert AuditSample.objects.count() == 1


def test_api_needs_a_login(api_client, swedish):
    assert api_client.get("/api/v1/audit-samples/").status_code in (401, 403)


# --- bounded queries ----------------------------------------------------------------------------

def _queries(get) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert get().status_code == 200
    return len(ctx.captured_queries)


def _fresh(user):
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize("persona", ["staff_reviewer", "local_rep_sweden"])
def test_sample_list_runs_a_fixed_number_of_queries(request, client, api_client, staff_reviewer,
                                                    persona, django_assert_max_num_queries):
    active(3, country="SE")
    user = _fresh(request.getfixturevalue(persona))
    client.force_login(user)
    api_client.force_authenticate(user)

    def draw(n):
        for _ in range(n):
            sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=2)

    draw(1)
    few = (_queries(lambda: client.get("/staff/audit-samples/")),
           _queries(lambda: api_client.get("/api/v1/audit-samples/")))
    draw(30)
    with django_assert_max_num_queries(7):
        assert len(client.get("/staff/audit-samples/").context["page"]) == 25
    many = (_queries(lambda: client.get("/staff/audit-samples/")),
            _queries(lambda: api_client.get("/api/v1/audit-samples/")))
    assert many == few


def test_sample_detail_runs_a_fixed_number_of_queries(client, api_client, staff_reviewer,
                                                      staff_admin, django_assert_max_num_queries):
    active(80, country="SE")
    user = _fresh(staff_reviewer)
    client.force_login(user)
    api_client.force_authenticate(user)
    small = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=1)
    large = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=70)
    for item in large.items.all()[:20]:
        sampling.audit_item_update(item=item, actor=staff_reviewer, data={"auditor": staff_admin})

    def counts(sample):
        return (_queries(lambda: client.get(f"/staff/audit-samples/{sample.pk}/")),
                _queries(lambda: api_client.get(f"/api/v1/audit-samples/{sample.pk}/")),
                _queries(lambda: api_client.get(f"/api/v1/audit-items/?sample={sample.pk}")))

    assert counts(large) == counts(small)
    with django_assert_max_num_queries(7):
        client.get(f"/staff/audit-samples/{large.pk}/")


def test_samples_filter_by_country_and_by_signatory(web_as, api_as, staff_reviewer, swedish,
                                                    thai, everywhere, company_a):
    client = web_as(staff_reviewer)
    api = api_as(staff_reviewer)

    def page(**params):
        return {s.pk for s in client.get(reverse("staff-audit-samples"), params).context["page"]}

    def listed(**params):
        return {s["id"] for s in api.get("/api/v1/audit-samples/", params).json()["results"]}

    for ids in (page, listed):
        assert ids(country="SE") == {swedish.pk}
        assert ids(country="TH") == {thai.pk}
        assert ids(country="all") == {everywhere.pk}
    drew_a = {s.pk for s in (swedish, everywhere) if s.items.filter(signatory=company_a).exists()}
    assert page(signatory=company_a.pk) == listed(signatory=company_a.pk) == drew_a


def test_local_rep_cannot_name_another_countrys_signatory_in_the_filter(
        web_as, local_rep_other_country, company_a):
    response = web_as(local_rep_other_country).get(reverse("staff-audit-samples"),
                                                   {"signatory": company_a.pk})
    assert response.status_code == 404
