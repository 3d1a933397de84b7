"""The signatories REST API (/api/v1/...): tokens, applying, lists, profile, lifecycle, team."""

import re

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from code_portal.models import AuditEvent, User
from signatories import services
from signatories.models import (
    Invitation,
    Membership,
    MembershipRole,
    Signatory,
    SignatoryStatus,
    SignatoryType,
)
from tests.factories import PASSWORD, MembershipFactory, SignatoryFactory, UserFactory

pytestmark = pytest.mark.django_db

S = SignatoryStatus
LIST_URL = "/api/v1/signatories/"
APPLY_URL = "/api/v1/signatories/apply/"
TOKEN_URL = "/api/v1/auth/token/"
PUBLIC_URL = "/api/v1/public/signatories/"


def detail_url(signatory, suffix=""):
    return f"/api/v1/signatories/{signatory.pk}/{suffix}"


def set_status(signatory, status):
    """Put a signatory in a state directly (the FSM field is protected), consistent with it."""
    fields = {"status": status}
    if status in (S.APPLIED, S.REJECTED):
        fields.update(membership_number=None, approved_at=None, signed_at=None,
                      member_since=None)
    elif status == S.APPROVED:
        fields.update(signed_at=None, member_since=None, signer_name="", signer_title="")
    Signatory.objects.filter(pk=signatory.pk).update(**fields)
    return Signatory.objects.get(pk=signatory.pk)


def fresh(signatory):
    return Signatory.objects.get(pk=signatory.pk)


APPLICATION = {
    "legal_name": "Alpine Travel GmbH",
    "trading_name": "Alpine Travel",
    "type": "tour_operator",
    "country": "AT",
    "address": "Ringstrasse 1, 1010 Wien",
    "website": "https://www.alpine-travel.example",
    "employees": 12,
    "contact_name": "Anna Berg",
    "contact_email": "anna@alpine-travel.example",
    "contact_phone": "+43 1 234 567",
    "no_residential_care": True,
}
APPLICANT = {"applicant_email": "Anna@Alpine-Travel.example", "applicant_name": "Anna Berg",
             "password": "a-long-enough-passphrase"}


# --- token -------------------------------------------------------------------------------------

def test_token_is_issued_for_email_and_password_and_authenticates_requests(company_admin,
                                                                           company_a):
    client = APIClient()
    response = client.post(TOKEN_URL, {"email": "ADMIN@nordic.example", "password": PASSWORD},
                           format="json")
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(user=company_admin).key == key

    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    listed = client.get(LIST_URL)
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [company_a.pk]


def test_same_token_is_returned_on_second_exchange(company_admin):
    client = APIClient()
    first = client.post(TOKEN_URL, {"email": company_admin.email, "password": PASSWORD})
    second = client.post(TOKEN_URL, {"email": company_admin.email, "password": PASSWORD})
    assert first.json()["token"] == second.json()["token"]


@pytest.mark.parametrize("password", ["wrong-password-entirely", ""])
def test_token_refused_with_bad_credentials(company_admin, password):
    response = APIClient().post(TOKEN_URL, {"email": company_admin.email, "password": password},
                                format="json")
    assert response.status_code == 400
    body = response.json()
    if password:
        assert body["non_field_errors"] == ["Unable to log in with these credentials."]
    else:
        assert "password" in body
    assert not Token.objects.filter(user=company_admin).exists()


def test_token_refused_for_inactive_user(company_admin):
    User.objects.filter(pk=company_admin.pk).update(is_active=False)
    response = APIClient().post(TOKEN_URL, {"email": company_admin.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_token_request_with_missing_fields_says_which():
    response = APIClient().post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_invalid_token_is_rejected(company_admin):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get(LIST_URL)
    # DRF answers 403 rather than 401 because session authentication comes first.
    assert response.status_code in (401, 403)
    assert response.json() == {"detail": "Invalid token."}


def test_token_endpoint_is_throttled(company_admin):
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"].split("/")[0])
    client = APIClient()
    statuses = [client.post(TOKEN_URL, {"email": company_admin.email,
                                        "password": "guessing-passwords"}).status_code
                for _ in range(limit)]
    assert set(statuses) == {400}
    response = client.post(TOKEN_URL, {"email": company_admin.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "detail" in response.json()


# --- apply -------------------------------------------------------------------------------------

def test_anonymous_application_creates_company_and_admin_account(
        django_capture_on_commit_callbacks, mailoutbox, staff_reviewer):
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(APPLY_URL, {**APPLICATION, **APPLICANT}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == S.APPLIED
    assert body["legal_name"] == "Alpine Travel GmbH"
    assert body["country"] == {"code": "AT", "name": "Austria"}
    assert "password" not in body

    signatory = Signatory.objects.get(pk=body["id"])
    membership = signatory.memberships.get()
    assert membership.role == MembershipRole.ADMIN
    assert membership.user.email == "anna@alpine-travel.example"
    assert membership.user.full_name == "Anna Berg"
    assert membership.user.check_password("a-long-enough-passphrase")
    assert signatory.audit_events.filter(action="signatory.applied").count() == 1
    assert [m.to for m in mailoutbox] == [[staff_reviewer.email]]


def test_logged_in_user_applies_for_another_company(api_as, company_admin):
    before = User.objects.count()
    response = api_as(company_admin).post(APPLY_URL, APPLICATION, format="json")
    assert response.status_code == 201, response.json()
    signatory = Signatory.objects.get(pk=response.json()["id"])
    assert signatory.memberships.get().user == company_admin
    assert User.objects.count() == before


def test_application_with_nothing_filled_lists_every_missing_field():
    response = APIClient().post(APPLY_URL, {}, format="json")
    assert response.status_code == 400
    body = response.json()
    for field in ("legal_name", "type", "country", "address", "employees", "contact_name",
                  "contact_email", "applicant_email", "applicant_name", "password"):
        assert body[field], field
        assert isinstance(body[field][0], str) and body[field][0]
    assert not Signatory.objects.exists()
    assert not User.objects.exists()


def test_application_with_invalid_values_says_what_is_wrong_per_field():
    bad = {**APPLICATION, **APPLICANT, "type": "spaceship", "country": "XX",
           "employees": -3, "website": "not a website", "contact_email": "nobody",
           "applicant_email": "also-not-an-email"}
    response = APIClient().post(APPLY_URL, bad, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"type", "country", "employees", "website", "contact_email",
                                    "applicant_email"}
    assert not Signatory.objects.exists()
    assert not User.objects.exists()


def test_application_with_weak_password_is_refused_on_password():
    response = APIClient().post(APPLY_URL, {**APPLICATION, **APPLICANT, "password": "12345"},
                                format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert not Signatory.objects.exists()
    assert not User.objects.exists()


def test_application_with_an_existing_email_asks_to_log_in_and_saves_nothing(company_admin):
    users = User.objects.count()
    response = APIClient().post(
        APPLY_URL, {**APPLICATION, **APPLICANT, "applicant_email": "Admin@Nordic.example"},
        format="json")
    assert response.status_code == 400
    assert "Log in" in response.json()["applicant_email"][0]
    assert not Signatory.objects.filter(legal_name=APPLICATION["legal_name"]).exists()
    assert User.objects.count() == users


def test_duplicate_application_is_flagged(api_as, company_admin, company_a):
    response = api_as(company_admin).post(
        APPLY_URL, {**APPLICATION, "legal_name": "NORDIC TOURS AB", "country": "SE"},
        format="json")
    assert response.status_code == 201
    assert response.json()["possible_duplicate"] is True
    assert fresh(company_a).possible_duplicate is True


# --- list and retrieve ---------------------------------------------------------------------------

@pytest.fixture
def mixed_signatories(company_a, company_b):
    SignatoryFactory(legal_name="Applied Hotel", type=SignatoryType.HOTEL, country="KE")
    SignatoryFactory(legal_name="Approved Airline", type=SignatoryType.AIRLINE, country="KE",
                     status=S.APPROVED, approved=True)
    SignatoryFactory(legal_name="Suspended Agency", type=SignatoryType.TRAVEL_AGENCY,
                     country="TH", status=S.SUSPENDED)
    return {"company_a": company_a, "company_b": company_b}


def names(response):
    assert response.status_code == 200, response.content
    return sorted(row["legal_name"] for row in response.json()["results"])


@pytest.mark.parametrize(("query", "expected"), [
    ("status=applied", ["Applied Hotel"]),
    ("status=applied&status=approved", ["Applied Hotel", "Approved Airline"]),
    ("type=hotel", ["Applied Hotel"]),
    ("type=airline&type=travel_agency", ["Approved Airline", "Suspended Agency"]),
    ("country=KE", ["Applied Hotel", "Approved Airline"]),
    ("country=TH&status=active", ["บริษัท สยาม ทัวร์ จำกัด"]),
    ("search=nordic", ["Nordic Tours AB"]),
    ("search=  AGENCY ", ["Suspended Agency"]),
])
def test_staff_filter_the_signatory_list(api_as, staff_reviewer, mixed_signatories, query,
                                         expected):
    assert names(api_as(staff_reviewer).get(f"{LIST_URL}?{query}")) == expected


def test_search_finds_a_membership_number(api_as, staff_reviewer, company_a, company_b):
    response = api_as(staff_reviewer).get(LIST_URL, {"search": company_b.membership_number})
    assert [row["id"] for row in response.json()["results"]] == [company_b.pk]


@pytest.mark.parametrize(("query", "field"), [("status=bogus", "status"),
                                              ("type=spaceship", "type"),
                                              ("country=XX", "country")])
def test_invalid_filter_value_is_a_400_on_that_filter(api_as, staff_reviewer, query, field):
    response = api_as(staff_reviewer).get(f"{LIST_URL}?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_signatory_list_is_paginated_in_name_order(api_as, staff_reviewer):
    for i in range(30):
        SignatoryFactory(legal_name=f"Company {i:02d}")
    client = api_as(staff_reviewer)
    first = client.get(LIST_URL).json()
    assert first["count"] == 30
    assert len(first["results"]) == settings.REST_FRAMEWORK["PAGE_SIZE"]
    assert first["results"][0]["legal_name"] == "Company 00"
    assert first["previous"] is None and first["next"]
    second = client.get(first["next"]).json()
    assert [r["legal_name"] for r in second["results"]] == [f"Company {i:02d}"
                                                           for i in range(25, 30)]


def test_company_user_lists_only_own_companies(api_as, viewer, company_a, mixed_signatories):
    assert names(api_as(viewer).get(LIST_URL)) == ["Nordic Tours AB"]


def test_local_representative_lists_only_their_countries(api_as, local_rep_sweden,
                                                         mixed_signatories):
    SignatoryFactory(legal_name="Stockholm Hotels", country="SE", type=SignatoryType.HOTEL)
    assert names(api_as(local_rep_sweden).get(LIST_URL)) == ["Nordic Tours AB",
                                                             "Stockholm Hotels"]


def test_anonymous_cannot_list_signatories(api_client, company_a):
    assert api_client.get(LIST_URL).status_code in (401, 403)
    assert api_client.get(detail_url(company_a)).status_code in (401, 403)


@pytest.mark.parametrize("persona", ["company_admin", "reporter", "viewer", "staff_reviewer",
                                     "staff_admin", "local_rep_sweden"])
def test_allowed_users_retrieve_a_signatory(request, api_as, company_a, persona):
    response = api_as(request.getfixturevalue(persona)).get(detail_url(company_a))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == company_a.pk
    assert body["legal_name"] == "Nordic Tours AB"
    assert body["status"] == S.ACTIVE
    assert body["status_display"] == "Active"
    assert body["membership_number"] == company_a.membership_number


def test_retrieve_unknown_signatory_is_404(api_as, staff_admin):
    assert api_as(staff_admin).get("/api/v1/signatories/999999/").status_code == 404


# --- profile -----------------------------------------------------------------------------------

def test_company_admin_edits_profile_and_a_rename_is_recorded(api_as, company_admin, company_a):
    response = api_as(company_admin).patch(
        detail_url(company_a), {"legal_name": "Nordic Journeys AB", "employees": 75},
        format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["legal_name"] == "Nordic Journeys AB"
    signatory = fresh(company_a)
    assert (signatory.legal_name, signatory.employees) == ("Nordic Journeys AB", 75)
    event = signatory.audit_events.get(action="signatory.renamed")
    assert event.actor == company_admin
    assert event.changes["legal_name"] == {"from": "Nordic Tours AB", "to": "Nordic Journeys AB"}


def test_staff_sets_the_reporting_deadline(api_as, staff_reviewer, company_a):
    response = api_as(staff_reviewer).patch(detail_url(company_a),
                                            {"reporting_deadline": "2031-03-31"}, format="json")
    assert response.status_code == 200, response.json()
    assert str(fresh(company_a).reporting_deadline) == "2031-03-31"


def test_company_admin_cannot_set_the_reporting_deadline(api_as, company_admin, company_a):
    before = fresh(company_a).reporting_deadline
    response = api_as(company_admin).patch(detail_url(company_a),
                                           {"reporting_deadline": "2031-03-31"}, format="json")
    assert response.status_code == 403
    assert fresh(company_a).reporting_deadline == before


@pytest.mark.parametrize("persona", ["reporter", "viewer"])
def test_reporter_and_viewer_cannot_edit_profile(request, api_as, company_a, persona):
    response = api_as(request.getfixturevalue(persona)).patch(
        detail_url(company_a), {"legal_name": "Hijacked AB"}, format="json")
    assert response.status_code == 403
    assert fresh(company_a).legal_name == "Nordic Tours AB"


def test_invalid_profile_values_are_refused_per_field_and_nothing_changes(api_as, company_admin,
                                                                          company_a):
    response = api_as(company_admin).patch(
        detail_url(company_a),
        {"legal_name": "", "employees": "many", "contact_email": "nope", "type": "boat",
         "country": "ZZ", "contact_name": "Still valid"},
        format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"legal_name", "employees", "contact_email", "type", "country"}
    signatory = fresh(company_a)
    assert signatory.legal_name == "Nordic Tours AB"
    assert signatory.contact_name != "Still valid"
    assert not signatory.audit_events.exists()


def test_put_is_not_offered(api_as, company_admin, company_a):
    response = api_as(company_admin).put(detail_url(company_a), {"legal_name": "X"},
                                         format="json")
    assert response.status_code == 405


# --- lifecycle transitions -------------------------------------------------------------------

ALLOWED = [
    # action, from, persona, payload, to
    ("approve", S.APPLIED, "staff_reviewer", {}, S.APPROVED),
    ("approve", S.APPLIED, "local_rep_sweden", {"reason": "Checked"}, S.APPROVED),
    ("reject", S.APPLIED, "staff_reviewer", {"reason": "Runs orphanage tours"}, S.REJECTED),
    ("sign", S.APPROVED, "company_admin", {"signer_name": "Eva Lind", "signer_title": "CEO"},
     S.ACTIVE),
    ("flag_overdue", S.ACTIVE, "staff_reviewer", {"reason": "No report"}, S.REPORTING_OVERDUE),
    ("flag_overdue", S.ACTIVE, "local_rep_sweden", {"reason": "No report"},
     S.REPORTING_OVERDUE),
    ("suspend", S.REPORTING_OVERDUE, "staff_reviewer", {"reason": "Still no report"},
     S.SUSPENDED),
    ("suspend", S.ACTIVE, "staff_admin", {"reason": "Complaint"}, S.SUSPENDED),
    ("reinstate", S.SUSPENDED, "staff_admin", {"reason": "Reported"}, S.ACTIVE),
    ("reinstate", S.REPORTING_OVERDUE, "staff_reviewer", {"reason": "Reported"}, S.ACTIVE),
    ("withdraw", S.ACTIVE, "company_admin", {"reason": "Closing down"}, S.WITHDRAWN),
    ("withdraw", S.APPLIED, "staff_reviewer", {"reason": "Asked by phone"}, S.WITHDRAWN),
    ("expel", S.SUSPENDED, "staff_admin", {"reason": "Never reported"}, S.EXPELLED),
]


def action_url(signatory, action):
    return detail_url(signatory, f"{action.replace('_', '-')}/")


@pytest.mark.parametrize(("action", "source", "persona", "payload", "target"), ALLOWED)
def test_allowed_transition_returns_new_status_and_is_audited(request, api_as, company_admin,
                                                              company_a, action, source,
                                                              persona, payload, target):
    signatory = set_status(company_a, source)
    actor = request.getfixturevalue(persona)
    response = api_as(actor).post(action_url(signatory, action), payload, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == target
    signatory = fresh(signatory)
    assert signatory.status == target
    event = signatory.audit_events.get(action=f"signatory.{action}")
    assert (event.actor, event.from_state, event.to_state) == (actor, source, target)
    if payload.get("reason"):
        assert event.reason == payload["reason"]


def test_approval_gives_a_membership_number(api_as, staff_reviewer, company_a):
    signatory = set_status(company_a, S.APPLIED)
    body = api_as(staff_reviewer).post(action_url(signatory, "approve")).json()
    assert body["membership_number"] == f"TC-SE-{signatory.pk:06d}"
    assert body["approved_at"]


def test_signing_records_signer_time_and_code_version(api_as, company_admin, company_a):
    signatory = set_status(company_a, S.APPROVED)
    body = api_as(company_admin).post(
        action_url(signatory, "sign"), {"signer_name": "Eva Lind", "signer_title": "CEO"},
        format="json").json()
    assert (body["signer_name"], body["signer_title"]) == ("Eva Lind", "CEO")
    assert body["signed_code_version"] == "2024"
    assert body["signed_at"] and body["member_since"] and body["reporting_deadline"]


REFUSED_ROLE = [
    ("approve", S.APPLIED, "company_admin"),
    ("approve", S.APPLIED, "viewer"),
    ("reject", S.APPLIED, "reporter"),
    ("sign", S.APPROVED, "reporter"),
    ("sign", S.APPROVED, "viewer"),
    ("sign", S.APPROVED, "staff_reviewer"),
    ("sign", S.APPROVED, "staff_admin"),
    ("flag_overdue", S.ACTIVE, "company_admin"),
    ("suspend", S.ACTIVE, "company_admin"),
    ("suspend", S.ACTIVE, "local_rep_sweden"),
    ("reinstate", S.SUSPENDED, "company_admin"),
    ("reinstate", S.SUSPENDED, "local_rep_sweden"),
    ("withdraw", S.ACTIVE, "reporter"),
    ("withdraw", S.ACTIVE, "viewer"),
    ("withdraw", S.ACTIVE, "local_rep_sweden"),
    ("expel", S.ACTIVE, "staff_reviewer"),
    ("expel", S.ACTIVE, "company_admin"),
    ("expel", S.ACTIVE, "local_rep_sweden"),
]


@pytest.mark.parametrize(("action", "source", "persona"), REFUSED_ROLE)
def test_transition_by_wrong_role_is_forbidden(request, api_as, company_admin, reporter, viewer,
                                               company_a, action, source, persona):
    signatory = set_status(company_a, source)
    response = api_as(request.getfixturevalue(persona)).post(
        action_url(signatory, action),
        {"reason": "because", "signer_name": "X", "signer_title": "Y"}, format="json")
    assert response.status_code == 403
    assert fresh(signatory).status == source
    assert not signatory.audit_events.exists()


WRONG_STATE = [
    ("approve", S.ACTIVE, "staff_reviewer", "cannot be approved"),
    ("reject", S.APPROVED, "staff_reviewer", "cannot be rejected"),
    ("sign", S.APPLIED, "company_admin", "cannot be signed"),
    ("sign", S.ACTIVE, "company_admin", "cannot be signed"),
    ("flag_overdue", S.SUSPENDED, "staff_reviewer", "cannot be flagged as reporting overdue"),
    ("suspend", S.APPLIED, "staff_reviewer", "cannot be suspended"),
    ("reinstate", S.ACTIVE, "staff_reviewer", "cannot be reinstated"),
    ("withdraw", S.REJECTED, "staff_reviewer", "cannot be withdrawn"),
    ("expel", S.APPLIED, "staff_admin", "cannot be expelled"),
    ("expel", S.EXPELLED, "staff_admin", "cannot be expelled"),
]


@pytest.mark.parametrize(("action", "source", "persona", "message"), WRONG_STATE)
def test_transition_from_wrong_state_is_a_conflict_with_message(request, api_as, company_admin,
                                                                company_a, action, source,
                                                                persona, message):
    signatory = set_status(company_a, source)
    response = api_as(request.getfixturevalue(persona)).post(
        action_url(signatory, action),
        {"reason": "because", "signer_name": "Eva Lind", "signer_title": "CEO"}, format="json")
    assert response.status_code == 409
    assert message in response.json()["detail"]
    assert fresh(signatory).status == source
    assert not signatory.audit_events.exists()


REASON_NEEDED = [
    ("reject", S.APPLIED, "staff_reviewer"),
    ("flag_overdue", S.ACTIVE, "staff_reviewer"),
    ("suspend", S.ACTIVE, "staff_reviewer"),
    ("reinstate", S.SUSPENDED, "staff_reviewer"),
    ("withdraw", S.ACTIVE, "company_admin"),
    ("expel", S.ACTIVE, "staff_admin"),
]


@pytest.mark.parametrize("payload", [{}, {"reason": "   "}])
@pytest.mark.parametrize(("action", "source", "persona"), REASON_NEEDED)
def test_transition_without_reason_is_refused_on_reason(request, api_as, company_admin,
                                                        company_a, action, source, persona,
                                                        payload):
    signatory = set_status(company_a, source)
    response = api_as(request.getfixturevalue(persona)).post(action_url(signatory, action),
                                                             payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"reason": ["Please give a reason."]}
    assert fresh(signatory).status == source


@pytest.mark.parametrize(("payload", "field"), [
    ({"signer_title": "CEO"}, "signer_name"),
    ({"signer_name": "Eva Lind"}, "signer_title"),
    ({"signer_name": "Eva Lind", "signer_title": "x" * 201}, "signer_title"),
])
def test_signing_without_signer_details_is_refused_per_field(api_as, company_admin, company_a,
                                                             payload, field):
    signatory = set_status(company_a, S.APPROVED)
    response = api_as(company_admin).post(action_url(signatory, "sign"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert fresh(signatory).status == S.APPROVED


def test_reason_longer_than_allowed_is_refused(api_as, staff_reviewer, company_a):
    signatory = set_status(company_a, S.APPLIED)
    response = api_as(staff_reviewer).post(action_url(signatory, "reject"),
                                           {"reason": "x" * 4001}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert fresh(signatory).status == S.APPLIED


# --- history -----------------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["viewer", "staff_reviewer", "local_rep_sweden"])
def test_history_lists_transitions_newest_first(request, api_as, company_admin, viewer,
                                                staff_reviewer, company_a, persona):
    signatory = set_status(company_a, S.APPLIED)
    services.signatory_approve(signatory=signatory, actor=staff_reviewer, reason="Looks good")
    services.signatory_sign(signatory=signatory, actor=company_admin, signer_name="Eva",
                            signer_title="CEO")
    response = api_as(request.getfixturevalue(persona)).get(detail_url(signatory, "history/"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    sign, approve = body["results"]
    assert (sign["action"], sign["from_state"], sign["to_state"], sign["actor"]) == (
        "signatory.sign", S.APPROVED, S.ACTIVE, company_admin.email)
    assert (approve["action"], approve["reason"], approve["actor"]) == (
        "signatory.approve", "Looks good", staff_reviewer.email)


def test_history_is_paginated(api_as, viewer, company_a, company_admin):
    for i in range(30):
        services.signatory_update_profile(signatory=company_a, actor=company_admin,
                                          data={"employees": 100 + i})
    body = api_as(viewer).get(detail_url(company_a, "history/")).json()
    assert body["count"] == 30
    assert len(body["results"]) == 25
    assert body["results"][0]["changes"]["employees"] == {"from": 128, "to": 129}


# --- members -----------------------------------------------------------------------------------

def members_url(signatory, membership=None):
    return detail_url(signatory, "members/" + (f"{membership.pk}/" if membership else ""))


def membership_of(user, signatory):
    return Membership.objects.get(user=user, signatory=signatory)


@pytest.mark.parametrize("persona", ["company_admin", "reporter", "viewer", "staff_reviewer"])
def test_team_is_listed_to_members_and_staff(request, api_as, company_admin, reporter, viewer,
                                             company_a, persona):
    response = api_as(request.getfixturevalue(persona)).get(members_url(company_a))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["email"], r["role"]) for r in rows] == [
        ("admin@nordic.example", "admin"), ("reporter@nordic.example", "reporter"),
        ("viewer@nordic.example", "viewer")]


def test_admin_changes_a_members_role(api_as, company_admin, reporter, company_a):
    membership = membership_of(reporter, company_a)
    response = api_as(company_admin).patch(members_url(company_a, membership),
                                           {"role": "admin"}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    assert membership_of(reporter, company_a).role == MembershipRole.ADMIN
    assert company_a.audit_events.filter(action="membership.role_changed").count() == 1


@pytest.mark.parametrize("persona", ["reporter", "viewer"])
def test_non_admin_cannot_change_roles(request, api_as, company_admin, reporter, viewer,
                                       company_a, persona):
    membership = membership_of(viewer, company_a)
    response = api_as(request.getfixturevalue(persona)).patch(
        members_url(company_a, membership), {"role": "admin"}, format="json")
    assert response.status_code == 403
    assert membership_of(viewer, company_a).role == MembershipRole.VIEWER


@pytest.mark.parametrize("payload", [{"role": "owner"}, {}])
def test_change_role_with_bad_role_is_refused_on_role(api_as, company_admin, viewer, company_a,
                                                      payload):
    response = api_as(company_admin).patch(members_url(company_a, membership_of(viewer,
                                                                                company_a)),
                                           payload, format="json")
    assert response.status_code == 400
    assert "role" in response.json()


def test_last_admin_cannot_step_down(api_as, company_admin, company_a):
    response = api_as(company_admin).patch(members_url(company_a,
                                                       membership_of(company_admin, company_a)),
                                           {"role": "viewer"}, format="json")
    assert response.status_code == 409
    assert "at least one administrator" in response.json()["detail"]
    assert membership_of(company_admin, company_a).role == MembershipRole.ADMIN


def test_admin_removes_a_member(api_as, company_admin, reporter, company_a):
    response = api_as(company_admin).delete(members_url(company_a,
                                                        membership_of(reporter, company_a)))
    assert response.status_code == 204
    assert not Membership.objects.filter(user=reporter, signatory=company_a).exists()
    assert company_a.audit_events.filter(action="membership.removed").count() == 1


def test_member_leaves_the_company(api_as, viewer, company_admin, company_a):
    response = api_as(viewer).delete(members_url(company_a, membership_of(viewer, company_a)))
    assert response.status_code == 204
    assert not Membership.objects.filter(user=viewer, signatory=company_a).exists()
    assert company_a.audit_events.filter(action="membership.left").count() == 1
    # and the company is now invisible to them
    assert api_as(viewer).get(detail_url(company_a)).status_code == 404


def test_reporter_cannot_remove_someone_else(api_as, reporter, viewer, company_a):
    response = api_as(reporter).delete(members_url(company_a, membership_of(viewer, company_a)))
    assert response.status_code == 403
    assert Membership.objects.filter(user=viewer, signatory=company_a).exists()


def test_last_admin_cannot_leave(api_as, company_admin, company_a):
    response = api_as(company_admin).delete(members_url(company_a,
                                                        membership_of(company_admin, company_a)))
    assert response.status_code == 409
    assert "at least one administrator" in response.json()["detail"]
    assert Membership.objects.filter(user=company_admin, signatory=company_a).exists()


def test_an_admin_may_leave_when_another_admin_remains(api_as, company_admin, company_a):
    other = MembershipFactory(signatory=company_a, role=MembershipRole.ADMIN).user
    response = api_as(company_admin).delete(members_url(company_a,
                                                        membership_of(company_admin, company_a)))
    assert response.status_code == 204
    assert list(company_a.memberships.values_list("user", flat=True)) == [other.pk]


# --- invitations -------------------------------------------------------------------------------

def invitations_url(signatory, invitation=None):
    return detail_url(signatory, "invitations/" + (f"{invitation.pk}/" if invitation else ""))


def invite(signatory, actor, email="new@nordic.example", role=MembershipRole.REPORTER):
    return services.invitation_create(signatory=signatory, actor=actor, email=email, role=role)[0]


def test_admin_lists_only_open_invitations(api_as, company_admin, company_a):
    open_one = invite(company_a, company_admin, "open@nordic.example")
    revoked = invite(company_a, company_admin, "revoked@nordic.example")
    services.invitation_revoke(invitation=revoked, actor=company_admin)
    response = api_as(company_admin).get(invitations_url(company_a))
    assert response.status_code == 200
    assert [(r["id"], r["email"], r["role"]) for r in response.json()["results"]] == [
        (open_one.pk, "open@nordic.example", "reporter")]


def test_admin_invites_someone_and_they_get_an_email(api_as, company_admin, company_a,
                                                     django_capture_on_commit_callbacks,
                                                     mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(company_admin).post(invitations_url(company_a),
                                              {"email": "New.Person@Nordic.example",
                                               "role": "viewer"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["email"], body["role"]) == ("new.person@nordic.example", "viewer")
    assert body["expires_at"]
    assert "token" not in body and "token_hash" not in body
    assert [m.to for m in mailoutbox] == [["new.person@nordic.example"]]
    assert re.search(r"/invitations/[\w-]+/", mailoutbox[0].body)


@pytest.mark.parametrize(("payload", "field"), [
    ({"email": "not-an-email", "role": "viewer"}, "email"),
    ({"email": "ok@nordic.example", "role": "owner"}, "role"),
    ({"role": "viewer"}, "email"),
    ({"email": "viewer@nordic.example", "role": "viewer"}, "email"),  # already a member
])
def test_invalid_invitation_is_refused_per_field(api_as, company_admin, viewer, company_a,
                                                 payload, field):
    response = api_as(company_admin).post(invitations_url(company_a), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("persona", ["reporter", "viewer"])
def test_non_admin_cannot_invite(request, api_as, company_admin, reporter, viewer, company_a,
                                 persona):
    response = api_as(request.getfixturevalue(persona)).post(
        invitations_url(company_a), {"email": "x@nordic.example", "role": "admin"},
        format="json")
    assert response.status_code == 403
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("persona", ["reporter", "viewer"])
def test_non_admin_does_not_see_invitations(request, api_as, company_admin, reporter, viewer,
                                            company_a, persona):
    # Regression: listing answered 404 while inviting answered 403 to the same member; a
    # member who may not manage the team now gets 403 on both (outsiders still get 404).
    invite(company_a, company_admin)
    response = api_as(request.getfixturevalue(persona)).get(invitations_url(company_a))
    assert response.status_code == 403


def test_admin_withdraws_an_invitation(api_as, company_admin, company_a):
    invitation = invite(company_a, company_admin)
    client = api_as(company_admin)
    assert client.delete(invitations_url(company_a, invitation)).status_code == 204
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert client.get(invitations_url(company_a)).json()["results"] == []
    # a withdrawn invitation is gone for the API too
    assert client.delete(invitations_url(company_a, invitation)).status_code == 404


def test_reporter_cannot_withdraw_an_invitation(api_as, company_admin, reporter, company_a):
    invitation = invite(company_a, company_admin)
    assert api_as(reporter).delete(invitations_url(company_a, invitation)).status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


# --- public list -------------------------------------------------------------------------------

def test_public_list_shows_only_active_signatories_without_private_fields(api_client, company_a):
    for status in (S.APPLIED, S.APPROVED, S.REPORTING_OVERDUE, S.SUSPENDED, S.REJECTED,
                   S.WITHDRAWN, S.EXPELLED):
        SignatoryFactory(legal_name=f"Hidden {status}", status=status,
                         contact_email=f"{status}@hidden.example")
    SignatoryFactory(legal_name="Sunny Hotels Ltd", trading_name="Sunny", status=S.ACTIVE,
                     active=True, type=SignatoryType.HOTEL, country="TH",
                     contact_email="private@sunny.example", contact_phone="+66 555 0101")
    response = api_client.get(PUBLIC_URL)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["name"] for r in rows] == ["Nordic Tours AB", "Sunny"]
    assert set(rows[1]) == {"id", "name", "legal_name", "type", "type_display", "country",
                            "member_since"}
    assert rows[1]["country"] == {"code": "TH", "name": "Thailand"}
    assert rows[1]["type_display"] == "Hotel / accommodation"
    content = response.content.decode()
    for private in ("private@sunny.example", "+66 555 0101", company_a.contact_email,
                    company_a.address.splitlines()[0], "membership_number", "@hidden.example"):
        assert private not in content


def test_public_list_search_by_name(api_client, company_a):
    SignatoryFactory(legal_name="Sunny Hotels Ltd", trading_name="Sunny", status=S.ACTIVE)
    SignatoryFactory(legal_name="Sunny Applications", status=S.APPLIED)
    assert [r["name"] for r in api_client.get(PUBLIC_URL, {"search": "sunny"}).json()[
        "results"]] == ["Sunny"]
    assert api_client.get(PUBLIC_URL, {"search": "nothing like it"}).json()["count"] == 0


def test_public_list_is_paginated(api_client):
    for i in range(30):
        SignatoryFactory(legal_name=f"Member {i:02d}", status=S.ACTIVE)
    body = api_client.get(PUBLIC_URL).json()
    assert body["count"] == 30
    assert len(body["results"]) == 25
    assert len(api_client.get(body["next"]).json()["results"]) == 5


def test_user_created_by_factory_can_use_the_api_with_a_token(company_a):
    user = UserFactory(email="api.user@nordic.example")
    MembershipFactory(user=user, signatory=company_a, role=MembershipRole.VIEWER)
    key = APIClient().post(TOKEN_URL, {"email": user.email, "password": PASSWORD}).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(detail_url(company_a)).status_code == 200
    assert client.patch(detail_url(company_a), {"legal_name": "X"},
                        format="json").status_code == 403
    assert AuditEvent.objects.filter(signatory=company_a).count() == 0


def test_apply_requires_the_no_residential_care_confirmation():
    for value in (False, None):
        payload = {**APPLICATION, **APPLICANT, "no_residential_care": value}
        if value is None:
            payload.pop("no_residential_care")
        response = APIClient().post(APPLY_URL, payload, format="json")
        assert response.status_code == 400
        assert "no_residential_care" in response.json()
    assert not Signatory.objects.filter(legal_name=APPLICATION["legal_name"]).exists()


def test_public_list_search_parameter_is_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    params = schema["paths"]["/api/v1/public/signatories/"]["get"]["parameters"]
    assert {"search", "page"} <= {p["name"] for p in params}


def test_company_admin_cannot_change_the_country_through_the_api(api_as, company_admin,
                                                                 staff_admin, company_a):
    url = f"/api/v1/signatories/{company_a.pk}/"
    response = api_as(company_admin).patch(url, {"country": "TH"}, format="json")
    assert response.status_code == 403
    assert "country" in str(response.json())
    company_a.refresh_from_db()
    assert company_a.country.code == "SE"
    assert api_as(staff_admin).patch(url, {"country": "NO"}, format="json").status_code == 200
    company_a.refresh_from_db()
    assert company_a.country.code == "NO"

