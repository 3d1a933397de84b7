"""The notification log (pages and API), the reminder settings page, and the admin settings:
who sees what, 404 for outsiders, bounded queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from code_portal.models import AuditEvent
from code_portal.reminders.models import Notification, ReminderConfig, ReminderPreference
from signatories.models import SignatoryStatus
from tests.factories import SignatoryFactory

pytestmark = pytest.mark.django_db


def _log(signatory, n: int = 1, kind: str = "report-due", prefix: str = "k") -> list[Notification]:
    return [Notification.objects.create(
        key=f"{prefix}:{signatory.pk if signatory else 'staff'}:{i}", kind=kind,
        signatory=signatory, recipients=[f"person{i}@example.org"],
        template="reminders/email/report_due", context={}, reason=f"Reason {i}",
        status="sent") for i in range(n)]


@pytest.fixture
def logs(company_a, company_b):
    return {"a": _log(company_a, prefix="a")[0], "b": _log(company_b, prefix="b")[0],
            "digest": _log(None, kind="applications-waiting", prefix="d")[0]}


# --- company page ------------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["company_admin", "reporter", "viewer", "staff_reviewer",
                                     "staff_admin", "local_rep_sweden"])
def test_company_log_is_readable_by_members_and_staff_in_scope(persona, request, web_as, logs,
                                                               company_a):
    response = web_as(request.getfixturevalue(persona)).get(
        reverse("company-notifications", args=[company_a.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "person0@example.org" in body and "Reason 0" in body


@pytest.mark.parametrize("persona", ["outsider", "local_rep_other_country"])
def test_company_log_is_404_for_outsiders(persona, request, web_as, logs, company_a):
    client = web_as(request.getfixturevalue(persona))
    assert client.get(reverse("company-notifications", args=[company_a.pk])).status_code == 404
    assert client.get(reverse("notification-detail", args=[logs["a"].pk])).status_code == 404


def test_company_log_needs_a_login(client, company_a):
    response = client.get(reverse("company-notifications", args=[company_a.pk]))
    assert response.status_code == 302


def test_company_log_lists_only_its_own(web_as, company_admin, company_a, logs):
    body = web_as(company_admin).get(
        reverse("company-notifications", args=[company_a.pk])).content.decode()
    assert f'href="/notifications/{logs["a"].pk}/"' in body
    assert f'href="/notifications/{logs["b"].pk}/"' not in body
    assert f'href="/notifications/{logs["digest"].pk}/"' not in body


def test_company_log_paginates_in_constant_queries(web_as, company_admin, company_a,
                                                   django_assert_max_num_queries):
    client = web_as(company_admin)
    url = reverse("company-notifications", args=[company_a.pk])
    _log(company_a, 3, prefix="few")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    _log(company_a, 60, prefix="many")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert "Page 1 of 3" in response.content.decode()


# --- staff page --------------------------------------------------------------------------------

def test_staff_log_shows_everything_to_central_staff(web_as, staff_reviewer, logs):
    body = web_as(staff_reviewer).get(reverse("staff-notifications")).content.decode()
    for n in logs.values():
        assert f'href="/notifications/{n.pk}/"' in body


def test_staff_log_shows_a_local_rep_only_their_countries(web_as, local_rep_sweden, logs):
    body = web_as(local_rep_sweden).get(reverse("staff-notifications")).content.decode()
    assert f'href="/notifications/{logs["a"].pk}/"' in body  # Sweden
    assert f'href="/notifications/{logs["b"].pk}/"' not in body  # Thailand
    assert f'href="/notifications/{logs["digest"].pk}/"' not in body  # digests: central staff


@pytest.mark.parametrize("persona", ["company_admin", "outsider"])
def test_staff_log_is_404_for_companies(persona, request, web_as, logs):
    client = web_as(request.getfixturevalue(persona))
    assert client.get(reverse("staff-notifications")).status_code == 404


def test_staff_log_filters_and_constant_queries(web_as, staff_admin, company_a, company_b,
                                                django_assert_max_num_queries):
    client = web_as(staff_admin)
    _log(company_a, 5, prefix="x")
    _log(company_b, 5, kind="training-refresher", prefix="y")
    client.get(reverse("staff-notifications"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("staff-notifications"))
    for i in range(40):
        _log(SignatoryFactory(active=True, status=SignatoryStatus.ACTIVE), 1, prefix=f"z{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("staff-notifications"))
    body = client.get(reverse("staff-notifications") + "?kind=training-refresher").content.decode()
    assert body.count('href="/notifications/') == 5


def test_detail_shows_why_and_to_whom(web_as, company_admin, logs):
    body = web_as(company_admin).get(
        reverse("notification-detail", args=[logs["a"].pk])).content.decode()
    assert "person0@example.org" in body and "Reason 0" in body and logs["a"].key in body
    # regression: the kind had no choices, so its label (the page heading) was empty
    assert "<h1>Annual report due soon</h1>" in body


def test_log_names_each_notifications_kind(web_as, staff_reviewer, logs):
    body = web_as(staff_reviewer).get(reverse("staff-notifications")).content.decode()
    assert "Annual report due soon" in body
    assert "Applications waiting for staff: digest" in body


# --- API -----------------------------------------------------------------------------------------

def _ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_api_scopes_like_the_pages(api_as, company_admin, staff_reviewer, local_rep_sweden,
                                   outsider, logs):
    assert _ids(api_as(company_admin).get("/api/v1/notifications/")) == {logs["a"].pk}
    assert _ids(api_as(outsider).get("/api/v1/notifications/")) == {logs["b"].pk}
    assert _ids(api_as(local_rep_sweden).get("/api/v1/notifications/")) == {logs["a"].pk}
    assert _ids(api_as(staff_reviewer).get("/api/v1/notifications/")) == {
        n.pk for n in logs.values()}


@pytest.mark.parametrize("persona", ["outsider", "local_rep_other_country"])
def test_api_detail_is_404_for_outsiders(persona, request, api_as, logs):
    response = api_as(request.getfixturevalue(persona)).get(
        f"/api/v1/notifications/{logs['a'].pk}/")
    assert response.status_code == 404


def test_api_detail_and_filters(api_as, company_admin, company_a, logs):
    client = api_as(company_admin)
    row = client.get(f"/api/v1/notifications/{logs['a'].pk}/").json()
    assert row["recipients"] == ["person0@example.org"] and row["reason"] == "Reason 0"
    assert row["status"] == "sent" and row["signatory"] == company_a.pk
    assert _ids(client.get("/api/v1/notifications/?kind=training-refresher")) == set()


def test_api_needs_authentication(api_client, logs):
    assert api_client.get("/api/v1/notifications/").status_code in (401, 403)


def test_api_list_queries_do_not_grow(api_as, staff_admin, company_a,
                                      django_assert_max_num_queries):
    client = api_as(staff_admin)
    _log(company_a, 3, prefix="few")
    with django_assert_max_num_queries(6) as few:
        client.get("/api/v1/notifications/")
    _log(company_a, 60, prefix="many")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/notifications/")
    assert response.json()["count"] == 63 and len(response.json()["results"]) == 25


def test_api_preferences(api_as, reporter):
    client = api_as(reporter)
    assert client.get("/api/v1/notifications/preferences/").json() == {"optional_reminders": True}
    response = client.put("/api/v1/notifications/preferences/", {"optional_reminders": False},
                          format="json")
    assert response.json() == {"optional_reminders": False}
    assert ReminderPreference.objects.get(user=reporter).optional_reminders is False


# --- settings page -------------------------------------------------------------------------------

def test_user_unsubscribes_from_optional_reminders(web_as, reporter):
    client = web_as(reporter)
    page = client.get(reverse("reminder-preferences"))
    assert 'name="optional_reminders"' in page.content.decode()
    assert "checked" in page.content.decode()
    response = client.post(reverse("reminder-preferences"), {}, follow=True)
    assert "You do not receive optional reminders." in response.content.decode()
    assert ReminderPreference.objects.get(user=reporter).optional_reminders is False
    assert AuditEvent.objects.filter(actor=reporter,
                                     action="reminders.preference_changed").exists()
    client.post(reverse("reminder-preferences"), {"optional_reminders": "on"})
    assert ReminderPreference.objects.get(user=reporter).optional_reminders is True


def test_settings_page_needs_a_login(client):
    assert client.get(reverse("reminder-preferences")).status_code == 302


# --- admin: reminder settings --------------------------------------------------------------------

def test_staff_admin_edits_offsets_in_the_django_admin(web_as, staff_admin):
    config = ReminderConfig.objects.get(kind="report-due")
    client = web_as(staff_admin)
    url = reverse("admin:reminders_reminderconfig_change", args=[config.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"enabled": "on", "offsets": "[45, 14]",
                                 "repeat_every_days": ""})
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.offsets == [45, 14]
    assert AuditEvent.objects.filter(action="reminders.settings_changed", actor=staff_admin).exists()
    bad = client.post(url, {"enabled": "on", "offsets": "[-3]", "repeat_every_days": ""})
    assert bad.status_code == 200 and "whole numbers" in bad.content.decode()


def test_reviewer_reads_but_cannot_edit_settings(web_as, staff_reviewer):
    config = ReminderConfig.objects.get(kind="report-due")
    client = web_as(staff_reviewer)
    assert client.get(reverse("admin:reminders_reminderconfig_changelist")).status_code == 200
    client.post(reverse("admin:reminders_reminderconfig_change", args=[config.pk]),
                {"enabled": "on", "offsets": "[1]", "repeat_every_days": ""})
    config.refresh_from_db()
    assert config.offsets == [60, 30, 7]
