"""The staff audit trail: page, event detail, API — scope per role, filters, query bounds, and
that nobody can change or delete an entry through the app (model, admin, API, database)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from code_portal.audit import audit_record
from code_portal.models import AuditEvent
from signatories import services as signatory_services
from signatories.models import Signatory
from tests.factories import SignatoryFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("staff-audit-list")
API = "/api/v1/audit-events/"


def _detail(event) -> str:
    return reverse("staff-audit-detail", args=[event.pk])


def _event(signatory=None, *, actor=None, action="signatory.profile_updated", reason="",
           obj=None, **kwargs) -> AuditEvent:
    return audit_record(actor=actor, action=action, obj=obj or signatory or actor,
                        signatory=signatory, reason=reason, **kwargs)


@pytest.fixture
def events(company_a, company_b, staff_admin):
    """One event of a Swedish signatory, one of a Thai one, one about no signatory."""
    return {
        "se": _event(company_a, actor=staff_admin, action="signatory.suspend", reason="No report",
                     from_state="active", to_state="suspended",
                     changes={"legal_name": {"from": "Old Tours AB", "to": "Nordic Tours AB"}}),
        "th": _event(company_b, actor=staff_admin, action="signatory.reinstate",
                     reason="Report received", from_state="suspended", to_state="active"),
        "none": _event(None, actor=staff_admin, obj=staff_admin,
                       action="user.api_token_regenerated"),
    }


# --- What each role sees ------------------------------------------------------------------------

def test_staff_see_every_event_with_actor_action_object_states_reason_and_changes(
        web_as, staff_reviewer, events):
    html = web_as(staff_reviewer).get(LIST).content.decode()

    for action in ("signatory.suspend", "signatory.reinstate", "user.api_token_regenerated"):
        assert f"<code>{action}</code>" in html
    assert "staffadmin@thecode.example" in html
    assert "active → suspended" in html
    assert "No report" in html
    assert "<del>Old Tours AB</del> → " in html
    assert '<span class="after">Nordic Tours AB</span>' in html
    assert "3 events" in html


def test_event_detail_shows_the_before_and_after_of_each_field(web_as, staff_reviewer, events):
    html = web_as(staff_reviewer).get(_detail(events["se"])).content.decode()

    assert "<th scope=\"row\">Legal name</th><td>Old Tours AB</td><td>Nordic Tours AB</td>" in html
    assert "No report" in html
    assert reverse("staff-signatory-detail", args=[events["se"].signatory_id]) in html


def test_local_representative_sees_only_events_of_their_countries_signatories(
        web_as, api_as, local_rep_sweden, events):
    html = web_as(local_rep_sweden).get(LIST).content.decode()
    api = api_as(local_rep_sweden).get(API).json()

    assert "<code>signatory.suspend</code>" in html
    assert "<code>signatory.reinstate</code>" not in html  # Thailand
    assert "<code>user.api_token_regenerated</code>" not in html  # no signatory: central staff only
    assert [e["id"] for e in api["results"]] == [events["se"].pk]
    assert web_as(local_rep_sweden).get(_detail(events["th"])).status_code == 404
    assert web_as(local_rep_sweden).get(_detail(events["none"])).status_code == 404
    assert api_as(local_rep_sweden).get(f"{API}{events['th'].pk}/").status_code == 404


def test_local_representative_of_another_country_sees_nothing_of_a_and_b(
        web_as, api_as, local_rep_other_country, events):
    assert api_as(local_rep_other_country).get(API).json()["count"] == 0
    assert "0 events" in web_as(local_rep_other_country).get(LIST).content.decode()


@pytest.mark.parametrize("persona", ["company_admin", "viewer", "outsider"])
def test_company_users_cannot_reach_the_audit_trail(request, web_as, api_as, persona, events):
    user = request.getfixturevalue(persona)

    assert web_as(user).get(LIST).status_code == 404
    assert web_as(user).get(_detail(events["se"])).status_code == 404
    assert api_as(user).get(API).status_code == 404
    assert api_as(user).get(f"{API}{events['se'].pk}/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in_and_refused_by_the_api(client, events):
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(API).status_code in (401, 403)


def test_events_written_by_real_services_appear_in_the_trail(web_as, staff_admin, company_a):
    applied = SignatoryFactory(legal_name="Fresh Applicant Ltd", country="SE")
    signatory_services.signatory_reject(signatory=applied, actor=staff_admin,
                                        reason="Orphanage volunteering")

    rows = web_as(staff_admin).get(API + "?action=signatory").json()["results"]

    rejected = next(r for r in rows if r["action"] == "signatory.reject")
    assert rejected["signatory"] == applied.pk
    assert rejected["reason"] == "Orphanage volunteering"
    assert (rejected["from_state"], rejected["to_state"]) == ("applied", "rejected")
    assert rejected["actor_label"] == staff_admin.email


# --- Filters (page and API share one FilterSet) ---------------------------------------------------

def test_filters_by_actor_action_object_type_signatory_and_dates(api_as, staff_reviewer, company_a,
                                                               company_b, events):
    other_actor = StaffFactory(email="someone@thecode.example")
    by_other = _event(company_a, actor=other_actor, action="report.approved")
    client = api_as(staff_reviewer)

    def ids(query: str) -> set[int]:
        response = client.get(f"{API}?{query}")
        assert response.status_code == 200, response.content
        return {e["id"] for e in response.json()["results"]}

    assert ids("actor=someone@") == {by_other.pk}
    assert ids("action=signatory") == {events["se"].pk, events["th"].pk}
    assert ids("action=signatory.suspend") == {events["se"].pk}
    assert ids(f"signatory={company_b.pk}") == {events["th"].pk}
    assert ids("country=SE") == {events["se"].pk, by_other.pk}
    user_type = events["none"].content_type_id
    assert ids(f"object_type={user_type}") == {events["none"].pk}
    assert ids("search=report received") == {events["th"].pk}
    today = timezone.localdate()
    assert len(ids(f"occurred_from={today}&occurred_to={today}")) == 4
    assert ids(f"occurred_to={today - timedelta(days=1)}") == set()
    assert ids(f"occurred_from={today + timedelta(days=1)}") == set()


def test_date_range_is_inclusive_of_the_last_day(api_as, staff_reviewer, company_a):
    event = AuditEvent(occurred_at=timezone.now() - timedelta(days=3), actor_label="x",
                       action="signatory.approve", content_type_id=_event(company_a).content_type_id,
                       object_id=str(company_a.pk), object_repr="x", signatory=company_a)
    event.save()
    day = timezone.localtime(event.occurred_at).date()

    found = api_as(staff_reviewer).get(f"{API}?occurred_from={day}&occurred_to={day}").json()

    assert [e["id"] for e in found["results"]] == [event.pk]


def test_page_filters_narrow_the_list(web_as, staff_reviewer, events):
    html = web_as(staff_reviewer).get(LIST + "?action=signatory.reinstate").content.decode()

    assert "<code>signatory.reinstate</code>" in html
    assert "<code>signatory.suspend</code>" not in html
    assert "1 event" in html


# --- Bounded queries ------------------------------------------------------------------------------

def _many_events(n: int) -> None:
    for i in range(n):
        signatory = SignatoryFactory(country="SE" if i % 2 else "TH")
        _event(signatory, actor=None, action="signatory.approve",
               changes={"status": {"from": "applied", "to": "approved"}})


@pytest.mark.parametrize("persona", ["staff_reviewer", "local_rep_sweden"])
def test_audit_page_queries_do_not_grow_with_rows(request, web_as, persona):
    client = web_as(request.getfixturevalue(persona))
    _many_events(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    _many_events(120)  # more than a page (50)

    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)

    assert response.status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_audit_api_queries_do_not_grow_with_rows(api_as, staff_reviewer,
                                                django_assert_max_num_queries):
    client = api_as(staff_reviewer)
    _many_events(60)  # more than an API page (25)

    with django_assert_max_num_queries(6):
        response = client.get(API)

    assert response.json()["count"] == 60
    assert len(response.json()["results"]) == 25


# --- Nobody can change or delete an entry through the app -----------------------------------------

@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_api_refuses_every_write_even_for_staff_admins_and_superusers(api_as, staff_admin, events,
                                                                      method):
    superuser = UserFactory(email="root@thecode.example", is_superuser=True, is_staff=True,
                            staff_role="admin")
    for user in (staff_admin, superuser):
        client = api_as(user)
        url = API if method == "post" else f"{API}{events['se'].pk}/"
        response = getattr(client, method)(url, {"reason": "rewritten"}, format="json")
        assert response.status_code == 405
    event = AuditEvent.objects.get(pk=events["se"].pk)
    assert event.reason == "No report"
    assert AuditEvent.objects.count() == 3


def test_model_refuses_save_of_an_existing_event_and_delete(events):
    event = AuditEvent.objects.get(pk=events["se"].pk)
    event.reason = "rewritten"

    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == "No report"


@pytest.fixture
def superuser_client(client):
    user = UserFactory(email="root@thecode.example", is_superuser=True, is_staff=True,
                       staff_role="admin")
    client.force_login(user)
    return client


def test_django_admin_shows_events_read_only(superuser_client, events):
    url = reverse("admin:code_portal_auditevent_change", args=[events["se"].pk])

    page = superuser_client.get(url)
    changed = superuser_client.post(url, {"reason": "rewritten", "action": "x"})

    assert page.status_code == 200
    assert 'name="reason"' not in page.content.decode()  # no editable field
    assert changed.status_code == 403
    assert superuser_client.get(reverse("admin:code_portal_auditevent_add")).status_code == 403
    assert AuditEvent.objects.get(pk=events["se"].pk).reason == "No report"


def test_django_admin_refuses_delete_view_and_bulk_delete(superuser_client, events):
    delete_url = reverse("admin:code_portal_auditevent_delete", args=[events["se"].pk])
    changelist = reverse("admin:code_portal_auditevent_changelist")

    assert superuser_client.get(delete_url).status_code == 403
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 403
    listing = superuser_client.get(changelist)
    assert "delete_selected" not in listing.content.decode()
    superuser_client.post(changelist, {"action": "delete_selected", "post": "yes",
                                       "_selected_action": [e.pk for e in events.values()]})
    assert AuditEvent.objects.count() == 3


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="the append-only trigger is PostgreSQL's (migration "
                                          "staff 0002)")


def test_queryset_refuses_bulk_update_and_delete_of_events(events):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=events["se"].pk).update(reason="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=events["th"].pk).update(signatory=events["se"].signatory)
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=events["se"].pk).update(actor=None, reason="")
    event = events["se"]
    event.reason = "changed"
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_update([event], ["reason"])
    assert AuditEvent.objects.count() == 3
    assert AuditEvent.objects.get(pk=events["se"].pk).reason == "No report"


@postgres_only
@pytest.mark.postgres
def test_database_refuses_update_and_delete_of_events_below_the_orm(events):
    table = AuditEvent._meta.db_table
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET reason = 'rewritten' WHERE id = %s",  # noqa: S608
                       [events["se"].pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET signatory_id = %s WHERE id = %s",  # noqa: S608
                       [events["se"].signatory_id, events["th"].pk])
    assert AuditEvent.objects.count() == 3
    assert AuditEvent.objects.get(pk=events["se"].pk).reason == "No report"


def test_database_still_lets_a_deleted_signatory_or_user_leave_their_events(company_a, events):
    """ON DELETE SET NULL is the one update allowed: the event stays, with its labels."""
    signatory = Signatory.objects.create(
        legal_name="Short Lived Ltd", type="tour_operator", country="SE", address="x",
        employees=1, contact_name="x", contact_email="x@example.org")
    event = _event(signatory, action="signatory.applied")
    actor = UserFactory(email="leaving@example.org")
    by_actor = _event(company_a, actor=actor, action="membership.left")

    Signatory.objects.filter(pk=signatory.pk).delete()
    actor.delete()

    event = AuditEvent.objects.get(pk=event.pk)
    assert event.signatory_id is None and event.object_repr.startswith("Short Lived Ltd")
    by_actor = AuditEvent.objects.get(pk=by_actor.pk)
    assert by_actor.actor_id is None and by_actor.actor_label == "leaving@example.org"
