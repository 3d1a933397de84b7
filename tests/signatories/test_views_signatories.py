"""Server-rendered pages of the signatories app: applying, the company's pages, the team,
invitations, the API token page, the staff pages and the Django admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from code_portal.models import User
from signatories import services
from signatories.models import (
    Invitation,
    Membership,
    MembershipRole,
    Signatory,
    SignatoryStatus,
    SignatoryType,
    StaffNote,
)
from tests.factories import MembershipFactory, SignatoryFactory, UserFactory

pytestmark = pytest.mark.django_db

S = SignatoryStatus


def fresh(signatory):
    return Signatory.objects.get(pk=signatory.pk)


def set_status(signatory, status):
    fields = {"status": status}
    if status in (S.APPLIED, S.REJECTED):
        fields.update(membership_number=None, approved_at=None, signed_at=None,
                      member_since=None)
    elif status == S.APPROVED:
        fields.update(signed_at=None, member_since=None, signer_name="", signer_title="")
    Signatory.objects.filter(pk=signatory.pk).update(**fields)
    return fresh(signatory)


def page_text(response) -> str:
    return response.content.decode()


def errors_of(response, form="form"):
    return response.context[form].errors


APPLICATION = {
    "legal_name": "Alpine Travel GmbH",
    "trading_name": "Alpine Travel",
    "type": "tour_operator",
    "country": "AT",
    "address": "Ringstrasse 1, 1010 Wien",
    "website": "https://www.alpine-travel.example",
    "employees": "12",
    "contact_name": "Anna Berg",
    "contact_email": "anna@alpine-travel.example",
    "contact_phone": "+43 1 234 567",
    "no_residential_care": "on",
}
APPLICANT = {"applicant_email": "anna@alpine-travel.example", "applicant_name": "Anna Berg",
             "password": "a-long-enough-passphrase"}


def profile_data(signatory, **overrides):
    data = {"legal_name": signatory.legal_name, "trading_name": signatory.trading_name,
            "type": signatory.type, "country": signatory.country.code,
            "address": signatory.address, "website": signatory.website,
            "employees": str(signatory.employees), "contact_name": signatory.contact_name,
            "contact_email": signatory.contact_email, "contact_phone": signatory.contact_phone}
    data.update(overrides)
    return data


# --- apply -------------------------------------------------------------------------------------

def test_apply_page_asks_anonymous_visitors_for_a_login(client):
    response = client.get(reverse("apply"))
    assert response.status_code == 200
    form = response.context["form"]
    assert {"applicant_email", "applicant_name", "password", "no_residential_care"} <= set(
        form.fields)
    assert 'for="id_legal_name"' in page_text(response)


def test_anonymous_application_creates_account_logs_in_and_shows_dashboard(
        client, django_capture_on_commit_callbacks, mailoutbox, staff_reviewer):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("apply"), {**APPLICATION, **APPLICANT})
    signatory = Signatory.objects.get(legal_name="Alpine Travel GmbH")
    assert response.status_code == 302
    assert response.url == reverse("company-dashboard", args=[signatory.pk])
    user = User.objects.get(email="anna@alpine-travel.example")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert signatory.memberships.get().user == user
    assert signatory.memberships.get().role == MembershipRole.ADMIN
    assert signatory.status == S.APPLIED
    assert len(mailoutbox) == 1

    dashboard = client.get(response.url)
    assert dashboard.status_code == 200
    assert "Your application has been sent to the Code staff" in page_text(dashboard)
    assert "waiting for review" in page_text(dashboard)


def test_invalid_application_shows_errors_per_field_and_keeps_the_input(client):
    data = {**APPLICATION, **APPLICANT, "contact_email": "not-an-email", "employees": "-5",
            "website": "not a site", "type": "spaceship", "password": "short",
            "trading_name": "Ålpine & Co"}
    del data["no_residential_care"]
    del data["address"]
    response = client.post(reverse("apply"), data)
    assert response.status_code == 200
    assert set(errors_of(response)) == {"contact_email", "employees", "website", "type",
                                        "password", "no_residential_care", "address"}
    html = page_text(response)
    assert 'id="id_contact_email_error"' in html
    assert 'value="Alpine Travel GmbH"' in html
    assert 'value="Ålpine &amp; Co"' in html
    assert 'value="not-an-email"' in html
    assert "a-long-enough" not in html and 'value="short"' not in html  # never echo a password
    assert not Signatory.objects.exists()
    assert not User.objects.exists()
    assert "_auth_user_id" not in client.session


def test_application_with_an_existing_email_is_refused_on_that_field(client, company_admin):
    response = client.post(reverse("apply"), {**APPLICATION, **APPLICANT,
                                              "applicant_email": "ADMIN@nordic.example"})
    assert response.status_code == 200
    assert "Log in, then apply" in errors_of(response)["applicant_email"][0]
    assert not Signatory.objects.filter(legal_name="Alpine Travel GmbH").exists()
    assert "_auth_user_id" not in client.session


def test_logged_in_user_applies_without_creating_a_new_account(web_as, company_admin):
    client = web_as(company_admin)
    form = client.get(reverse("apply")).context["form"]
    assert not {"applicant_email", "applicant_name", "password"} & set(form.fields)
    users = User.objects.count()
    response = client.post(reverse("apply"), APPLICATION)
    signatory = Signatory.objects.get(legal_name="Alpine Travel GmbH")
    assert response.status_code == 302
    assert response.url == reverse("company-dashboard", args=[signatory.pk])
    assert signatory.memberships.get().user == company_admin
    assert User.objects.count() == users


# --- public members page -----------------------------------------------------------------------

def test_public_members_page_lists_only_active_members_and_no_private_data(client, company_a):
    SignatoryFactory(legal_name="Pending Hotel", status=S.APPLIED)
    SignatoryFactory(legal_name="Suspended Agency", status=S.SUSPENDED)
    SignatoryFactory(legal_name="Overdue Airline", status=S.REPORTING_OVERDUE)
    response = client.get(reverse("public-list"))
    assert response.status_code == 200
    html = page_text(response)
    assert "Nordic Tours AB" in html and "Sweden" in html
    for hidden in ("Pending Hotel", "Suspended Agency", "Overdue Airline",
                   company_a.contact_email, company_a.membership_number):
        assert hidden not in html


def test_public_members_page_search(client, company_a, company_b):
    SignatoryFactory(legal_name="Sunny Beach Resorts", trading_name="Sunny", status=S.ACTIVE,
                     type=SignatoryType.HOTEL)
    response = client.get(reverse("public-list"), {"q": "  sunny "})
    assert [s.display_name for s in response.context["page"]] == ["Sunny"]
    assert 'value="sunny"' in page_text(response)
    empty = client.get(reverse("public-list"), {"q": "zzz"})
    assert "No members match your search." in page_text(empty)


def test_public_members_page_is_paginated(client):
    for i in range(30):
        SignatoryFactory(legal_name=f"Member {i:02d}", status=S.ACTIVE)
    first = client.get(reverse("public-list"))
    assert len(first.context["page"]) == 25
    assert 'rel="next"' in page_text(first)
    second = client.get(reverse("public-list"), {"page": 2, "q": ""})
    assert [s.legal_name for s in second.context["page"]] == [f"Member {i:02d}"
                                                             for i in range(25, 30)]


# --- company dashboard and profile -------------------------------------------------------------

@pytest.mark.parametrize(("persona", "can_edit", "can_manage"), [
    ("company_admin", True, True), ("reporter", False, False), ("viewer", False, False)])
def test_company_dashboard_for_each_role(request, web_as, company_a, persona, can_edit,
                                         can_manage):
    response = web_as(request.getfixturevalue(persona)).get(
        reverse("company-dashboard", args=[company_a.pk]))
    assert response.status_code == 200
    html = page_text(response)
    assert "Nordic Tours AB" in html and company_a.membership_number in html
    assert (reverse("company-profile", args=[company_a.pk]) in html) is can_edit
    assert ("Manage users" in html) is can_manage
    assert ('data-transition="withdraw"' in html) is can_edit


def test_approved_company_is_invited_to_sign(web_as, company_admin, company_a):
    set_status(company_a, S.APPROVED)
    html = page_text(web_as(company_admin).get(reverse("company-dashboard",
                                                       args=[company_a.pk])))
    assert reverse("company-sign", args=[company_a.pk]) in html


def test_dashboard_needs_login(client, company_a):
    response = client.get(reverse("company-dashboard", args=[company_a.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_home_sends_a_member_of_one_company_to_its_dashboard(web_as, viewer, company_a):
    response = web_as(viewer).get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse("company-dashboard", args=[company_a.pk])


def test_home_sends_staff_to_the_queue(web_as, staff_reviewer):
    response = web_as(staff_reviewer).get(reverse("home"))
    assert response.url == reverse("staff-queue")


def test_admin_edits_profile_and_change_is_recorded(web_as, company_admin, company_a):
    url = reverse("company-profile", args=[company_a.pk])
    client = web_as(company_admin)
    assert client.get(url).status_code == 200
    response = client.post(url, profile_data(company_a, legal_name="Nordic Journeys AB",
                                             employees="80"))
    assert response.status_code == 302
    assert response.url == reverse("company-dashboard", args=[company_a.pk])
    signatory = fresh(company_a)
    assert (signatory.legal_name, signatory.employees) == ("Nordic Journeys AB", 80)
    event = signatory.audit_events.get()
    assert event.action == "signatory.renamed"
    assert set(event.changes) == {"legal_name", "employees"}
    assert "The profile has been saved." in page_text(client.get(response.url))


def test_company_admin_cannot_move_the_company_to_another_country(web_as, company_admin,
                                                                  company_a):
    """The country decides which local representative oversees the company: after applying,
    only Code staff change it (the field is shown disabled; a forged value is ignored)."""
    url = reverse("company-profile", args=[company_a.pk])
    client = web_as(company_admin)
    assert "To change the country, contact Code staff." in page_text(client.get(url))
    response = client.post(url, profile_data(company_a, country="TH", employees="81"))
    assert response.status_code == 302
    signatory = fresh(company_a)
    assert (signatory.country.code, signatory.employees) == ("SE", 81)


def test_staff_move_a_signatory_to_another_country(web_as, staff_admin, company_a):
    response = web_as(staff_admin).post(reverse("company-profile", args=[company_a.pk]),
                                        profile_data(company_a, country="NO"))
    assert response.status_code == 302
    assert fresh(company_a).country.code == "NO"


def test_invalid_profile_shows_errors_per_field_and_keeps_input(web_as, company_admin,
                                                                company_a):
    response = web_as(company_admin).post(
        reverse("company-profile", args=[company_a.pk]),
        profile_data(company_a, legal_name="", contact_email="bad@", employees="lots",
                     contact_name="Keep Me"))
    assert response.status_code == 200
    assert set(errors_of(response)) == {"legal_name", "contact_email", "employees"}
    html = page_text(response)
    assert 'value="Keep Me"' in html and 'value="bad@"' in html
    signatory = fresh(company_a)
    assert signatory.legal_name == "Nordic Tours AB"
    assert signatory.contact_name != "Keep Me"
    assert not signatory.audit_events.exists()


@pytest.mark.parametrize("persona", ["reporter", "viewer"])
def test_reporter_and_viewer_cannot_edit_profile(request, web_as, company_a, persona):
    client = web_as(request.getfixturevalue(persona))
    url = reverse("company-profile", args=[company_a.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, profile_data(company_a, legal_name="X")).status_code == 403
    assert fresh(company_a).legal_name == "Nordic Tours AB"


def test_staff_edits_a_profile_from_the_dossier(web_as, staff_reviewer, company_a):
    response = web_as(staff_reviewer).post(reverse("company-profile", args=[company_a.pk]),
                                           profile_data(company_a, contact_phone="+46 8 123"))
    assert response.status_code == 302
    assert fresh(company_a).contact_phone == "+46 8 123"


# --- sign --------------------------------------------------------------------------------------

def test_signing_requires_the_confirmation_box(web_as, company_admin, company_a):
    signatory = set_status(company_a, S.APPROVED)
    url = reverse("company-sign", args=[signatory.pk])
    client = web_as(company_admin)
    page = client.get(url)
    assert page.status_code == 200
    assert "Policy" in page_text(page)  # the Code text is shown
    response = client.post(url, {"signer_name": "Eva Lind", "signer_title": "CEO"})
    assert response.status_code == 200
    assert list(errors_of(response)) == ["confirm"]
    assert 'value="Eva Lind"' in page_text(response)
    assert fresh(signatory).status == S.APPROVED


def test_signing_with_confirmation_activates_the_company(web_as, company_admin, company_a):
    signatory = set_status(company_a, S.APPROVED)
    client = web_as(company_admin)
    response = client.post(reverse("company-sign", args=[signatory.pk]),
                           {"signer_name": "Eva Lind", "signer_title": "CEO", "confirm": "on"})
    assert response.status_code == 302
    signatory = fresh(signatory)
    assert signatory.status == S.ACTIVE
    assert (signatory.signer_name, signatory.signer_title) == ("Eva Lind", "CEO")
    assert signatory.signed_code_version.version == "2024"
    assert "Thank you for signing The Code" in page_text(client.get(response.url))


def test_signing_with_missing_names_shows_errors(web_as, company_admin, company_a):
    signatory = set_status(company_a, S.APPROVED)
    response = web_as(company_admin).post(reverse("company-sign", args=[signatory.pk]),
                                          {"confirm": "on", "signer_name": " "})
    assert set(errors_of(response)) == {"signer_name", "signer_title"}
    assert fresh(signatory).status == S.APPROVED


@pytest.mark.parametrize("persona", ["reporter", "viewer", "staff_reviewer"])
def test_only_the_company_admin_may_sign(request, web_as, company_a, persona):
    signatory = set_status(company_a, S.APPROVED)
    response = web_as(request.getfixturevalue(persona)).post(
        reverse("company-sign", args=[signatory.pk]),
        {"signer_name": "Eva Lind", "signer_title": "CEO", "confirm": "on"})
    assert response.status_code == 403
    assert fresh(signatory).status == S.APPROVED


def test_signing_twice_shows_a_clear_message(web_as, company_admin, company_a):
    client = web_as(company_admin)
    for method in (client.get, client.post):
        response = method(reverse("company-sign", args=[company_a.pk]),
                          {"signer_name": "Eva Lind", "signer_title": "CEO", "confirm": "on"},
                          follow=True)
        assert response.redirect_chain[-1][0] == reverse("company-dashboard", args=[company_a.pk])
        assert "There is nothing to sign" in page_text(response)
    assert fresh(company_a).signer_name == "Signer"


# --- company-side transitions ------------------------------------------------------------------

def test_company_admin_withdraws_from_the_dashboard(web_as, company_admin, company_a):
    client = web_as(company_admin)
    response = client.post(reverse("signatory-transition", args=[company_a.pk, "withdraw"]),
                           {"reason": "We are closing", "next": f"/company/{company_a.pk}/"})
    assert response.status_code == 302
    assert response.url == reverse("company-dashboard", args=[company_a.pk])
    assert fresh(company_a).status == S.WITHDRAWN
    assert "Withdrawn" in page_text(client.get(response.url))


def test_withdraw_without_reason_shows_message_and_changes_nothing(web_as, company_admin,
                                                                  company_a):
    response = web_as(company_admin).post(
        reverse("signatory-transition", args=[company_a.pk, "withdraw"]),
        {"reason": "", "next": f"/company/{company_a.pk}/"}, follow=True)
    assert "Please give a reason." in page_text(response)
    assert fresh(company_a).status == S.ACTIVE


def test_reporter_cannot_withdraw_the_company(web_as, reporter, company_a):
    response = web_as(reporter).post(
        reverse("signatory-transition", args=[company_a.pk, "withdraw"]), {"reason": "x"})
    assert response.status_code == 403
    assert fresh(company_a).status == S.ACTIVE


@pytest.mark.parametrize("name", ["sign", "explode"])
def test_unknown_or_form_only_transition_is_404(web_as, company_admin, company_a, name):
    response = web_as(company_admin).post(
        reverse("signatory-transition", args=[company_a.pk, name]), {"reason": "x"})
    assert response.status_code == 404


def test_transition_page_refuses_get(web_as, staff_admin, company_a):
    response = web_as(staff_admin).get(reverse("signatory-transition",
                                               args=[company_a.pk, "suspend"]))
    assert response.status_code == 405
    assert fresh(company_a).status == S.ACTIVE


# --- team --------------------------------------------------------------------------------------

def team_url(signatory):
    return reverse("company-team", args=[signatory.pk])


def member_url(signatory, user):
    membership = Membership.objects.get(signatory=signatory, user=user)
    return reverse("membership-update", args=[signatory.pk, membership.pk])


def test_team_page_lists_members_and_lets_the_admin_invite(web_as, company_admin, reporter,
                                                           viewer, company_a):
    response = web_as(company_admin).get(team_url(company_a))
    assert response.status_code == 200
    assert [m.user.email for m in response.context["members"]] == [
        "admin@nordic.example", "reporter@nordic.example", "viewer@nordic.example"]
    html = page_text(response)
    assert "Send invitation" in html and "Change role" in html


def test_viewer_sees_the_team_but_cannot_manage_it(web_as, company_admin, viewer, company_a):
    client = web_as(viewer)
    html = page_text(client.get(team_url(company_a)))
    assert "admin@nordic.example" in html
    assert "Send invitation" not in html and "Change role" not in html
    assert "Leave this company" in html
    response = client.post(team_url(company_a), {"email": "x@nordic.example", "role": "admin"})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_admin_invites_by_email(web_as, company_admin, company_a,
                                django_capture_on_commit_callbacks, mailoutbox):
    client = web_as(company_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(team_url(company_a), {"email": "New@Nordic.example",
                                                     "role": "viewer"})
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("new@nordic.example", MembershipRole.VIEWER)
    assert [m.to for m in mailoutbox] == [["new@nordic.example"]]
    html = page_text(client.get(response.url))
    assert "Invitation sent to New@Nordic.example" in html
    assert "new@nordic.example" in html  # listed among open invitations


def test_invalid_invitation_shows_errors_and_keeps_input(web_as, company_admin, viewer,
                                                         company_a):
    client = web_as(company_admin)
    bad = client.post(team_url(company_a), {"email": "nobody", "role": "owner"})
    assert bad.status_code == 200
    assert set(errors_of(bad)) == {"email", "role"}
    assert 'value="nobody"' in page_text(bad)
    member = client.post(team_url(company_a), {"email": "viewer@nordic.example",
                                               "role": "viewer"})
    assert "already a member" in errors_of(member)["email"][0]
    assert not Invitation.objects.exists()


def test_admin_withdraws_an_invitation(web_as, company_admin, company_a):
    invitation, _token = services.invitation_create(signatory=company_a, actor=company_admin,
                                                    email="new@nordic.example", role="viewer")
    response = web_as(company_admin).post(
        reverse("invitation-revoke", args=[company_a.pk, invitation.pk]), follow=True)
    assert "The invitation has been withdrawn." in page_text(response)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_admin_changes_a_role(web_as, company_admin, reporter, company_a):
    response = web_as(company_admin).post(member_url(company_a, reporter),
                                          {"action": "role", "role": "viewer"}, follow=True)
    assert "The role has been changed." in page_text(response)
    assert Membership.objects.get(user=reporter).role == MembershipRole.VIEWER


def test_change_to_an_invalid_role_shows_message(web_as, company_admin, reporter, company_a):
    response = web_as(company_admin).post(member_url(company_a, reporter),
                                          {"action": "role", "role": "owner"}, follow=True)
    assert "Choose a valid role." in page_text(response)
    assert Membership.objects.get(user=reporter).role == MembershipRole.REPORTER


def test_admin_removes_a_member(web_as, company_admin, reporter, company_a):
    response = web_as(company_admin).post(member_url(company_a, reporter),
                                          {"action": "remove", "confirm": "yes"}, follow=True)
    assert "The member has been removed." in page_text(response)
    assert not Membership.objects.filter(user=reporter).exists()


def test_reporter_cannot_remove_or_change_others(web_as, reporter, viewer, company_a):
    client = web_as(reporter)
    assert client.post(member_url(company_a, viewer),
                       {"action": "remove", "confirm": "yes"}).status_code == 403
    assert client.post(member_url(company_a, viewer), {"action": "remove"}).status_code == 403
    assert client.post(member_url(company_a, viewer),
                       {"action": "role", "role": "admin"}).status_code == 403
    assert Membership.objects.get(user=viewer).role == MembershipRole.VIEWER


def test_member_leaves_the_company(web_as, company_admin, viewer, company_a):
    client = web_as(viewer)
    response = client.post(member_url(company_a, viewer), {"action": "remove", "confirm": "yes"})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert not Membership.objects.filter(user=viewer).exists()
    assert "You have left Nordic Tours AB." in page_text(client.get(response.url))
    assert client.get(reverse("company-dashboard", args=[company_a.pk])).status_code == 404


def test_leaving_or_removing_asks_for_confirmation_first(web_as, company_admin, viewer,
                                                         company_a):
    """One click on "Leave this company" or "Remove" only asks; nothing changes until the
    confirmation is posted (a removed member comes back only by a new invitation)."""
    asked = web_as(viewer).post(member_url(company_a, viewer), {"action": "remove"})
    assert asked.status_code == 200
    assert "Leave Nordic Tours AB?" in page_text(asked)
    assert 'name="confirm" value="yes"' in asked.content.decode()
    asked = web_as(company_admin).post(member_url(company_a, viewer), {"action": "remove"})
    assert "Remove " in page_text(asked) and viewer.email in page_text(asked)
    assert Membership.objects.filter(user=viewer).exists()


def test_last_admin_cannot_leave_or_step_down(web_as, company_admin, company_a):
    client = web_as(company_admin)
    left = client.post(member_url(company_a, company_admin),
                       {"action": "remove", "confirm": "yes"}, follow=True)
    assert "A company needs at least one administrator." in page_text(left)
    demoted = client.post(member_url(company_a, company_admin),
                          {"action": "role", "role": "viewer"}, follow=True)
    assert "A company needs at least one administrator." in page_text(demoted)
    assert Membership.objects.get(user=company_admin).role == MembershipRole.ADMIN


def test_admin_may_leave_when_another_admin_remains(web_as, company_admin, company_a):
    MembershipFactory(signatory=company_a, role=MembershipRole.ADMIN)
    response = web_as(company_admin).post(member_url(company_a, company_admin),
                                          {"action": "remove", "confirm": "yes"})
    assert response.url == reverse("home")
    assert not Membership.objects.filter(user=company_admin).exists()


# --- invitation acceptance ----------------------------------------------------------------------

@pytest.fixture
def invitation_token(company_a, company_admin):
    _invitation, token = services.invitation_create(
        signatory=company_a, actor=company_admin, email="new.person@nordic.example",
        role=MembershipRole.REPORTER)
    return token


def accept_url(token):
    return reverse("invitation-accept", args=[token])


def test_new_person_creates_account_from_invitation(client, invitation_token, company_a):
    page = client.get(accept_url(invitation_token))
    assert page.status_code == 200
    assert "new.person@nordic.example" in page_text(page)
    response = client.post(accept_url(invitation_token),
                           {"full_name": "Nina New", "password": "another-long-passphrase"})
    assert response.status_code == 302
    assert response.url == reverse("company-dashboard", args=[company_a.pk])
    user = User.objects.get(email="new.person@nordic.example")
    assert user.full_name == "Nina New"
    assert int(client.session["_auth_user_id"]) == user.pk
    assert Membership.objects.get(user=user).role == MembershipRole.REPORTER
    assert Invitation.objects.get().accepted_by == user


def test_new_person_with_a_weak_password_sees_errors_and_nothing_is_created(
        client, invitation_token):
    response = client.post(accept_url(invitation_token), {"full_name": "", "password": "123"})
    assert response.status_code == 200
    assert set(errors_of(response)) == {"full_name", "password"}
    assert not User.objects.filter(email="new.person@nordic.example").exists()
    assert Invitation.objects.get().accepted_at is None


def test_existing_user_is_asked_to_log_in_first(client, company_a, company_admin):
    existing = UserFactory(email="known@elsewhere.example")
    _inv, token = services.invitation_create(signatory=company_a, actor=company_admin,
                                             email=existing.email, role="viewer")
    response = client.get(accept_url(token))
    assert response.status_code == 200
    assert "You already have an account. Log in" in page_text(response)
    assert response.context["form"] is None
    # a POST without logging in does not attach anyone
    client.post(accept_url(token), {"full_name": "X", "password": "another-long-passphrase"})
    assert not Membership.objects.filter(user=existing).exists()


def test_existing_user_logged_in_accepts(web_as, company_a, company_admin):
    existing = UserFactory(email="known@elsewhere.example")
    _inv, token = services.invitation_create(signatory=company_a, actor=company_admin,
                                             email=existing.email, role="viewer")
    client = web_as(existing)
    assert "Accept the invitation" in page_text(client.get(accept_url(token)))
    response = client.post(accept_url(token))
    assert response.url == reverse("company-dashboard", args=[company_a.pk])
    assert Membership.objects.get(user=existing).role == MembershipRole.VIEWER


def test_invitation_for_someone_else_is_refused_and_stays_open(web_as, outsider,
                                                               invitation_token, company_a):
    response = web_as(outsider).post(accept_url(invitation_token), follow=True)
    assert "sent to another e-mail address" in page_text(response)
    assert not Membership.objects.filter(user=outsider, signatory=company_a).exists()
    assert Invitation.objects.get().accepted_at is None


def test_used_invitation_link_shows_a_clear_page(client, invitation_token):
    client.post(accept_url(invitation_token),
                {"full_name": "Nina New", "password": "another-long-passphrase"})
    client.logout()
    response = client.get(accept_url(invitation_token))
    assert response.status_code == 410
    assert "This invitation has already been used." in page_text(response)
    again = client.post(accept_url(invitation_token),
                        {"full_name": "Mallory", "password": "another-long-passphrase"})
    assert again.status_code == 410
    assert User.objects.filter(email="new.person@nordic.example").count() == 1


def test_expired_invitation_link_shows_a_clear_page(client, invitation_token):
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(accept_url(invitation_token))
    assert response.status_code == 410
    assert "This invitation has expired." in page_text(response)


def test_withdrawn_invitation_link_shows_a_clear_page(client, invitation_token):
    Invitation.objects.update(revoked_at=timezone.now())
    response = client.get(accept_url(invitation_token))
    assert response.status_code == 410
    assert "This invitation was withdrawn." in page_text(response)


def test_unknown_invitation_link_shows_a_clear_page(client, invitation_token):
    response = client.get(accept_url("not-the-token"))
    assert response.status_code == 410
    assert "This invitation link is not valid." in page_text(response)


# --- API token page ----------------------------------------------------------------------------

def test_api_token_page_creates_then_replaces_the_token(web_as, viewer):
    client = web_as(viewer)
    page = client.get(reverse("api-token"))
    assert page.status_code == 200
    assert "Create a token" in page_text(page)

    created = client.post(reverse("api-token"))
    first = Token.objects.get(user=viewer).key
    assert first in page_text(created)
    assert "Replace my token" in page_text(created)

    replaced = client.post(reverse("api-token"))
    second = Token.objects.get(user=viewer).key
    assert second != first
    assert second in page_text(replaced) and first not in page_text(replaced)
    # the key is only shown right after it was made
    assert second not in page_text(client.get(reverse("api-token")))


def test_api_token_page_needs_login(client):
    assert client.get(reverse("api-token")).status_code == 302


# --- staff pages -------------------------------------------------------------------------------

def test_staff_queue_lists_applications_oldest_first(web_as, staff_reviewer, company_a):
    newer = SignatoryFactory(legal_name="Newer Applicant")
    older = SignatoryFactory(legal_name="Older Applicant",
                             applied_at=timezone.now() - timedelta(days=3))
    response = web_as(staff_reviewer).get(reverse("staff-queue"))
    assert response.status_code == 200
    assert list(response.context["page"]) == [older, newer]
    assert "Nordic Tours AB" not in page_text(response)


def test_local_representative_queue_shows_only_their_countries(web_as, local_rep_sweden):
    swedish = SignatoryFactory(legal_name="Swedish Applicant", country="SE")
    SignatoryFactory(legal_name="Kenyan Applicant", country="KE")
    response = web_as(local_rep_sweden).get(reverse("staff-queue"))
    assert list(response.context["page"]) == [swedish]


@pytest.fixture
def staff_list_rows(company_a, company_b):
    SignatoryFactory(legal_name="Applied Hotel", type=SignatoryType.HOTEL, country="KE")
    SignatoryFactory(legal_name="Approved Airline", type=SignatoryType.AIRLINE, country="KE",
                     status=S.APPROVED)
    SignatoryFactory(legal_name="Double Hotel", type=SignatoryType.HOTEL, country="SE",
                     possible_duplicate=True)


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["Applied Hotel", "Approved Airline", "Double Hotel", "Nordic Tours AB",
          "บริษัท สยาม ทัวร์ จำกัด"]),
    ({"status": "applied"}, ["Applied Hotel", "Double Hotel"]),
    ({"status": ["approved", "active"], "country": "KE"}, ["Approved Airline"]),
    ({"type": "hotel"}, ["Applied Hotel", "Double Hotel"]),
    ({"search": "hotel", "country": "SE"}, ["Double Hotel"]),
    ({"possible_duplicate": "true"}, ["Double Hotel"]),
])
def test_staff_list_filters(web_as, staff_reviewer, staff_list_rows, query, expected):
    response = web_as(staff_reviewer).get(reverse("staff-signatory-list"), query)
    assert response.status_code == 200
    assert [s.legal_name for s in response.context["page"]] == expected


def test_staff_list_with_invalid_filter_says_so(web_as, staff_reviewer, staff_list_rows):
    response = web_as(staff_reviewer).get(reverse("staff-signatory-list"), {"status": "bogus"})
    assert response.status_code == 200
    assert "bogus is not one of the available choices" in page_text(response)


def test_staff_list_pagination_keeps_the_filters(web_as, staff_reviewer):
    for i in range(30):
        SignatoryFactory(legal_name=f"Hotel {i:02d}", type=SignatoryType.HOTEL)
    SignatoryFactory(legal_name="Airline", type=SignatoryType.AIRLINE)
    response = web_as(staff_reviewer).get(reverse("staff-signatory-list"), {"type": "hotel"})
    assert response.context["page"].paginator.count == 30
    assert "?type=hotel&amp;page=2" in page_text(response)
    second = web_as(staff_reviewer).get(reverse("staff-signatory-list"),
                                        {"type": "hotel", "page": 2})
    assert [s.legal_name for s in second.context["page"]] == [f"Hotel {i:02d}"
                                                             for i in range(25, 30)]


def test_staff_detail_shows_profile_members_history_and_allowed_actions(
        web_as, staff_reviewer, company_admin, company_a):
    signatory = set_status(company_a, S.APPLIED)
    response = web_as(staff_reviewer).get(reverse("staff-signatory-detail",
                                                  args=[signatory.pk]))
    assert response.status_code == 200
    html = page_text(response)
    assert "Nordic Tours AB" in html and "admin@nordic.example" in html
    assert 'data-transition="approve"' in html and 'data-transition="reject"' in html
    assert 'data-transition="expel"' not in html  # not from "applied", and not for reviewers
    assert response.context["transitions"] == ["approve", "reject", "withdraw"]


def test_staff_admin_sees_expel_on_an_active_signatory(web_as, staff_admin, company_a):
    response = web_as(staff_admin).get(reverse("staff-signatory-detail", args=[company_a.pk]))
    assert response.context["transitions"] == ["flag_overdue", "suspend", "withdraw", "expel"]


def test_staff_adds_a_note(web_as, staff_reviewer, company_a):
    client = web_as(staff_reviewer)
    url = reverse("staff-signatory-detail", args=[company_a.pk])
    response = client.post(url, {"text": "Called the CEO, report coming in May."})
    assert response.status_code == 302
    note = StaffNote.objects.get()
    assert (note.author, note.signatory) == (staff_reviewer, company_a)
    html = page_text(client.get(url))
    assert "Called the CEO, report coming in May." in html and "Note added." in html


def test_empty_note_shows_an_error(web_as, staff_reviewer, company_a):
    response = web_as(staff_reviewer).post(
        reverse("staff-signatory-detail", args=[company_a.pk]), {"text": "  "})
    assert response.status_code == 200
    assert "text" in errors_of(response, "note_form")
    assert not StaffNote.objects.exists()


def test_staff_approves_from_the_dossier(web_as, staff_reviewer, company_a):
    signatory = set_status(company_a, S.APPLIED)
    client = web_as(staff_reviewer)
    response = client.post(reverse("signatory-transition", args=[signatory.pk, "approve"]),
                           {"reason": "", "next": f"/staff/signatories/{signatory.pk}/"})
    assert response.status_code == 302
    assert response.url == reverse("staff-signatory-detail", args=[signatory.pk])
    assert fresh(signatory).status == S.APPROVED
    html = page_text(client.get(response.url))
    assert "Done: the signatory is now" in html
    assert "signatory.approve" in html  # shows in the history of changes


def test_staff_reject_without_reason_shows_message(web_as, staff_reviewer, company_a):
    signatory = set_status(company_a, S.APPLIED)
    response = web_as(staff_reviewer).post(
        reverse("signatory-transition", args=[signatory.pk, "reject"]), {"reason": ""},
        follow=True)
    assert "Please give a reason." in page_text(response)
    assert fresh(signatory).status == S.APPLIED


def test_staff_transition_from_wrong_state_shows_message(web_as, staff_reviewer, company_a):
    response = web_as(staff_reviewer).post(
        reverse("signatory-transition", args=[company_a.pk, "approve"]), follow=True)
    assert "cannot be approved" in page_text(response)
    assert fresh(company_a).status == S.ACTIVE


def test_reviewer_cannot_expel(web_as, staff_reviewer, company_a):
    response = web_as(staff_reviewer).post(
        reverse("signatory-transition", args=[company_a.pk, "expel"]), {"reason": "x"})
    assert response.status_code == 403
    assert fresh(company_a).status == S.ACTIVE


def test_too_long_reason_shows_message(web_as, staff_admin, company_a):
    response = web_as(staff_admin).post(
        reverse("signatory-transition", args=[company_a.pk, "suspend"]), {"reason": "x" * 4001},
        follow=True)
    assert "The reason is too long." in page_text(response)
    assert fresh(company_a).status == S.ACTIVE


def test_a_refused_transition_keeps_the_typed_reason_and_shows_the_error_at_its_field(
        web_as, staff_admin, company_a):
    """A reason over the limit: the dossier comes back (400) with the error next to the suspend
    form's reason and the text still in it; nothing changed."""
    typed = "Late report; " + "x" * 4000
    response = web_as(staff_admin).post(
        reverse("signatory-transition", args=[company_a.pk, "suspend"]), {"reason": typed})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-describedby="reason-suspend-error"' in html
    assert '<p class="error" id="reason-suspend-error">The reason is too long.</p>' in html
    assert typed in html
    assert 'id="reason-expel"' in html and 'aria-describedby="reason-expel-error"' not in html
    assert fresh(company_a).status == S.ACTIVE


def test_a_missing_reason_is_reported_at_the_field_on_the_company_dashboard(
        web_as, company_admin, company_a):
    response = web_as(company_admin).post(
        reverse("signatory-transition", args=[company_a.pk, "withdraw"]),
        {"reason": "  ", "next": f"/company/{company_a.pk}/"})
    assert response.status_code == 400
    html = response.content.decode()
    assert '<p class="error" id="reason-withdraw-error">Please give a reason.</p>' in html
    assert fresh(company_a).status == S.ACTIVE


def test_each_action_form_names_its_own_reason(web_as, staff_admin, company_a):
    html = web_as(staff_admin).get(
        reverse("staff-signatory-detail", args=[company_a.pk])).content.decode()
    assert '<label for="reason-suspend">Reason for suspending' in html
    assert '<label for="reason-expel">Reason for expelling' in html
    assert html.count(">Reason<") == 0


# --- Django admin ------------------------------------------------------------------------------

ADMIN_CHANGELISTS = [
    "/admin/signatories/signatory/",
    "/admin/signatories/signatory/?status__exact=applied&type__exact=hotel",
    "/admin/signatories/signatory/?q=nordic&possible_duplicate__exact=1",
    "/admin/signatories/membership/",
    "/admin/signatories/membership/?role__exact=admin&q=nordic",
    "/admin/signatories/invitation/",
    "/admin/signatories/staffnote/",
    "/admin/signatories/codeversion/",
    "/admin/code_portal/user/?staff_role__exact=reviewer",
    "/admin/code_portal/auditevent/",
]


@pytest.fixture
def superuser_staff_admin(staff_admin):
    # seed_demo makes Code staff admins Django superusers
    User.objects.filter(pk=staff_admin.pk).update(is_superuser=True)
    return User.objects.get(pk=staff_admin.pk)


@pytest.mark.parametrize("url", ADMIN_CHANGELISTS)
def test_admin_changelists_load_for_staff_admin(web_as, superuser_staff_admin, company_admin,
                                                company_a, staff_reviewer, url):
    services.invitation_create(signatory=company_a, actor=company_admin, email="n@x.example",
                               role="viewer")
    services.staff_note_add(signatory=company_a, actor=staff_reviewer, text="note")
    services.signatory_update_profile(signatory=company_a, actor=company_admin,
                                      data={"employees": 99})
    response = web_as(superuser_staff_admin).get(url)
    assert response.status_code == 200


def test_signatory_change_page_and_history_load_in_admin(web_as, superuser_staff_admin,
                                                         company_a):
    client = web_as(superuser_staff_admin)
    assert client.get(f"/admin/signatories/signatory/{company_a.pk}/change/").status_code == 200
    assert client.get(f"/admin/signatories/signatory/{company_a.pk}/history/").status_code == 200


def test_reviewer_sees_signatories_in_admin(web_as, staff_reviewer, company_a):
    response = web_as(staff_reviewer).get("/admin/signatories/signatory/?status__exact=active")
    assert response.status_code == 200
    assert "Nordic Tours AB" in page_text(response)


@pytest.mark.parametrize("persona", ["company_admin", "local_rep_other_country"])
def test_company_users_and_local_reps_are_kept_out_of_the_admin(request, web_as, persona):
    response = web_as(request.getfixturevalue(persona)).get("/admin/signatories/signatory/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def admin_change_data(signatory, **overrides):
    """The Django admin's change form of a signatory: the profile fields plus the (read-only)
    membership inline's management form."""
    data = profile_data(signatory, reporting_deadline="", **overrides)
    data.update({"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"})
    return data


def test_profile_edit_in_the_django_admin_goes_through_the_audited_service(
        web_as, superuser_staff_admin, company_a):
    client = web_as(superuser_staff_admin)
    response = client.post(f"/admin/signatories/signatory/{company_a.pk}/change/",
                           admin_change_data(company_a, legal_name="Nordic Journeys AB"))
    assert response.status_code == 302, response.content.decode()[:2000]
    signatory = fresh(company_a)
    assert signatory.legal_name == "Nordic Journeys AB"
    event = signatory.audit_events.get()
    assert (event.action, event.actor) == ("signatory.renamed", superuser_staff_admin)
    assert event.changes["legal_name"] == {"from": "Nordic Tours AB", "to": "Nordic Journeys AB"}
    assert "Django admin" in event.reason


def test_the_status_cannot_be_changed_in_the_django_admin(web_as, superuser_staff_admin,
                                                         company_a):
    client = web_as(superuser_staff_admin)
    client.post(f"/admin/signatories/signatory/{company_a.pk}/change/",
                admin_change_data(company_a, status=S.EXPELLED, possible_duplicate="on"))
    signatory = fresh(company_a)
    assert signatory.status == S.ACTIVE
    assert not signatory.possible_duplicate
    assert not signatory.audit_events.exists()


def test_signatories_are_neither_added_nor_deleted_in_the_django_admin(
        web_as, superuser_staff_admin, company_a):
    client = web_as(superuser_staff_admin)
    assert client.get("/admin/signatories/signatory/add/").status_code == 403
    assert client.post(f"/admin/signatories/signatory/{company_a.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert fresh(company_a).pk


def test_the_last_admin_cannot_be_removed_through_the_django_admin(
        web_as, superuser_staff_admin, company_a, company_admin):
    """Memberships and invitations change only on the team pages and API, which keep the last
    admin and audit every change; the Django admin shows them read-only."""
    membership = company_a.memberships.get(user=company_admin)
    client = web_as(superuser_staff_admin)
    assert client.post(f"/admin/signatories/membership/{membership.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/signatories/membership/{membership.pk}/change/",
                       {"user": company_admin.pk, "signatory": company_a.pk,
                        "role": "viewer"}).status_code == 403
    assert client.get("/admin/signatories/invitation/add/").status_code == 403
    membership.refresh_from_db()
    assert membership.role == "admin"
    # and the signatory's own change form does not let the inline delete it either
    client.post(f"/admin/signatories/signatory/{company_a.pk}/change/",
                {**admin_change_data(company_a), "memberships-TOTAL_FORMS": "1",
                 "memberships-INITIAL_FORMS": "1", "memberships-0-id": membership.pk,
                 "memberships-0-DELETE": "on"})
    assert company_a.memberships.filter(pk=membership.pk).exists()
