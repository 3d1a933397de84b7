"""A company's team through its services: invitations, roles, removal, leaving, API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from code_portal.errors import DomainError
from code_portal.models import AuditEvent, User
from signatories import services
from signatories.models import Invitation, Membership, MembershipRole
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 5, 5, 10, 0, tzinfo=UTC)
NEWCOMER = "new.person@nordic.example"
NOT_MANAGERS = ["reporter", "viewer", "outsider", "staff_reviewer", "staff_admin",
                "local_rep_sweden", "local_rep_other_country", "anonymous"]


@pytest.fixture
def team(company_admin, reporter, viewer):
    """Company A with its admin, reporter and viewer."""
    return company_admin.memberships.get().signatory


@pytest.fixture
def persona(request):
    def _get(name: str):
        if name == "anonymous":
            return AnonymousUser()
        return request.getfixturevalue(name)

    return _get


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def newcomer(db):
    return UserFactory(email=NEWCOMER)


def fresh(user: User) -> User:
    # permission checks cache a user's memberships on the instance, as a request would
    return User.objects.get(pk=user.pk)


def membership_of(user: User, signatory) -> Membership:
    return Membership.objects.get(user=user, signatory=signatory)


def invite(team, actor, email=NEWCOMER, role=MembershipRole.REPORTER):
    return services.invitation_create(signatory=team, actor=actor, email=email, role=role)


# --- Invitations -----------------------------------------------------------------------------

def test_admin_invites_by_email_and_the_link_is_mailed(
    team, company_admin, clock, settings, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = invite(team, company_admin, email="  New.Person@Nordic.EXAMPLE ")

    assert invitation.email == NEWCOMER
    assert invitation.role == MembershipRole.REPORTER
    assert invitation.invited_by == company_admin
    assert invitation.expires_at == NOW + timedelta(days=settings.INVITATION_VALID_DAYS)
    assert invitation.is_open
    # only a hash is kept: the database alone cannot be used to join
    assert token not in invitation.token_hash
    assert not Invitation.objects.filter(token_hash=token).exists()

    [message] = mailoutbox
    assert message.to == [NEWCOMER]
    assert "Nordic Tours AB" in message.subject
    link = settings.SITE_URL + reverse("invitation-accept", args=[token])
    assert link in message.body
    assert f'href="{link}"' in message.alternatives[0][0]
    assert "Reporter" in message.body

    event = AuditEvent.objects.get(action="invitation.created")
    assert (event.actor, event.signatory) == (company_admin, team)
    assert event.changes == {"email": {"to": NEWCOMER}, "role": {"to": "reporter"}}


@pytest.mark.parametrize("who", NOT_MANAGERS)
def test_only_a_company_admin_can_invite(who, team, persona, mailoutbox,
                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        invite(team, persona(who))
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_invitation_with_an_unknown_role_is_refused(team, company_admin):
    with pytest.raises(DomainError) as exc:
        invite(team, company_admin, role="owner")
    assert exc.value.field == "role"
    assert not Invitation.objects.exists()


def test_inviting_an_existing_member_is_refused(team, company_admin):
    with pytest.raises(DomainError) as exc:
        invite(team, company_admin, email="VIEWER@nordic.example")
    assert exc.value.field == "email"
    assert not Invitation.objects.exists()


def test_invitee_accepts_and_joins_with_the_invited_role(team, company_admin, newcomer, clock):
    invitation, token = invite(team, company_admin, role=MembershipRole.VIEWER)
    clock.shift(timedelta(days=3))
    membership = services.invitation_accept(token=token, user=newcomer)

    assert (membership.user, membership.signatory, membership.role) == (
        newcomer, team, MembershipRole.VIEWER)
    invitation.refresh_from_db()
    assert invitation.accepted_at == NOW + timedelta(days=3)
    assert invitation.accepted_by == newcomer
    assert not invitation.is_open
    event = AuditEvent.objects.get(action="membership.joined")
    assert (event.actor, event.signatory, event.changes) == (newcomer, team,
                                                            {"role": {"to": "viewer"}})
    assert fresh(newcomer).has_perm("signatories.view_signatory", team)


def test_invitation_link_works_only_once(team, company_admin, newcomer):
    _, token = invite(team, company_admin)
    services.invitation_accept(token=token, user=newcomer)
    Membership.objects.filter(user=newcomer).delete()  # even after being removed again

    with pytest.raises(DomainError, match="already been used"):
        services.invitation_accept(token=token, user=newcomer)
    assert not Membership.objects.filter(user=newcomer).exists()


def test_invitation_is_valid_until_just_before_it_expires(team, company_admin, newcomer, clock,
                                                          settings):
    _, token = invite(team, company_admin)
    clock.move_to(NOW + timedelta(days=settings.INVITATION_VALID_DAYS, seconds=-1))
    services.invitation_accept(token=token, user=newcomer)
    assert membership_of(newcomer, team).role == MembershipRole.REPORTER


def test_expired_invitation_is_refused(team, company_admin, newcomer, clock, settings):
    invitation, token = invite(team, company_admin)
    clock.move_to(NOW + timedelta(days=settings.INVITATION_VALID_DAYS))
    with pytest.raises(DomainError, match="expired"):
        services.invitation_accept(token=token, user=newcomer)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not Membership.objects.filter(user=newcomer).exists()


def test_revoked_invitation_is_refused(team, company_admin, newcomer):
    invitation, token = invite(team, company_admin)
    services.invitation_revoke(invitation=invitation, actor=company_admin)
    with pytest.raises(DomainError, match="withdrawn"):
        services.invitation_accept(token=token, user=newcomer)
    assert not Membership.objects.filter(user=newcomer).exists()
    event = AuditEvent.objects.get(action="invitation.revoked")
    assert (event.actor, event.signatory) == (company_admin, team)


def test_invitation_for_another_address_is_refused_and_stays_usable(team, company_admin,
                                                                   newcomer, outsider):
    invitation, token = invite(team, company_admin)
    with pytest.raises(DomainError, match="another e-mail address"):
        services.invitation_accept(token=token, user=outsider)
    assert not Membership.objects.filter(user=outsider, signatory=team).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None and invitation.accepted_by is None

    services.invitation_accept(token=token, user=newcomer)
    assert membership_of(newcomer, team).role == MembershipRole.REPORTER


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 43])
def test_unknown_invitation_link_is_refused(token, team, company_admin, newcomer):
    invite(team, company_admin)
    with pytest.raises(DomainError, match="not valid"):
        services.invitation_accept(token=token, user=newcomer)


def test_new_invitation_to_the_same_address_replaces_the_open_one(team, company_admin,
                                                                 newcomer):
    old, old_token = invite(team, company_admin, role=MembershipRole.VIEWER)
    other, _ = invite(team, company_admin, email="someone.else@nordic.example")
    new, new_token = invite(team, company_admin, email="NEW.PERSON@nordic.example",
                            role=MembershipRole.ADMIN)

    old.refresh_from_db()
    other.refresh_from_db()
    assert old.revoked_at is not None
    assert other.is_open  # another address is left alone
    with pytest.raises(DomainError, match="withdrawn"):
        services.invitation_accept(token=old_token, user=newcomer)
    services.invitation_accept(token=new_token, user=newcomer)
    assert membership_of(newcomer, team).role == MembershipRole.ADMIN


def test_accepting_when_already_a_member_is_refused_and_keeps_the_invitation(
    team, company_admin, newcomer
):
    invitation, token = invite(team, company_admin)
    MembershipFactory(signatory=team, user=newcomer, role=MembershipRole.VIEWER)
    with pytest.raises(DomainError, match="already a member"):
        services.invitation_accept(token=token, user=newcomer)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert membership_of(newcomer, team).role == MembershipRole.VIEWER


def test_invitation_withdrawn_before_the_mail_goes_out_is_not_mailed(
    team, company_admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        invitation, _ = invite(team, company_admin)
        services.invitation_revoke(invitation=invitation, actor=company_admin)
    assert mailoutbox == []


def test_revoking_twice_is_refused(team, company_admin):
    invitation, _ = invite(team, company_admin)
    services.invitation_revoke(invitation=invitation, actor=company_admin)
    with pytest.raises(DomainError, match="no longer open"):
        services.invitation_revoke(invitation=invitation, actor=company_admin)
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1


def test_used_invitation_cannot_be_revoked(team, company_admin, newcomer):
    invitation, token = invite(team, company_admin)
    services.invitation_accept(token=token, user=newcomer)
    with pytest.raises(DomainError, match="no longer open"):
        services.invitation_revoke(invitation=invitation, actor=company_admin)
    assert membership_of(newcomer, team)


@pytest.mark.parametrize("who", NOT_MANAGERS)
def test_only_a_company_admin_can_revoke_an_invitation(who, team, company_admin, persona):
    invitation, _ = invite(team, company_admin)
    with pytest.raises(PermissionDenied):
        services.invitation_revoke(invitation=invitation, actor=persona(who))
    invitation.refresh_from_db()
    assert invitation.is_open


# --- Roles -----------------------------------------------------------------------------------

def test_admin_promotes_a_reporter_who_can_then_manage_the_team(team, company_admin, reporter):
    membership = membership_of(reporter, team)
    services.membership_change_role(membership=membership, actor=company_admin,
                                    role=MembershipRole.ADMIN)
    assert membership_of(reporter, team).role == MembershipRole.ADMIN
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert (event.actor, event.signatory) == (company_admin, team)
    assert event.changes == {"role": {"from": "reporter", "to": "admin"}}
    assert fresh(reporter).has_perm("signatories.manage_members", team)


def test_demoted_admin_can_no_longer_manage_the_team(team, company_admin, reporter):
    second = MembershipFactory(signatory=team, role=MembershipRole.ADMIN).user
    services.membership_change_role(membership=membership_of(second, team), actor=company_admin,
                                    role=MembershipRole.VIEWER)
    with pytest.raises(PermissionDenied):
        services.membership_change_role(membership=membership_of(reporter, team),
                                        actor=fresh(second), role=MembershipRole.VIEWER)
    assert membership_of(reporter, team).role == MembershipRole.REPORTER


def test_role_change_to_an_unknown_role_is_refused(team, company_admin, viewer):
    with pytest.raises(DomainError) as exc:
        services.membership_change_role(membership=membership_of(viewer, team),
                                        actor=company_admin, role="superuser")
    assert exc.value.field == "role"
    assert membership_of(viewer, team).role == MembershipRole.VIEWER


@pytest.mark.parametrize("who", NOT_MANAGERS)
def test_only_a_company_admin_can_change_roles(who, team, viewer, persona):
    with pytest.raises(PermissionDenied):
        services.membership_change_role(membership=membership_of(viewer, team),
                                        actor=persona(who), role=MembershipRole.ADMIN)
    assert membership_of(viewer, team).role == MembershipRole.VIEWER
    assert not AuditEvent.objects.filter(action="membership.role_changed").exists()


@pytest.mark.parametrize("role", [MembershipRole.REPORTER, MembershipRole.VIEWER])
def test_last_admin_cannot_demote_themself(role, team, company_admin):
    with pytest.raises(DomainError, match="at least one administrator"):
        services.membership_change_role(membership=membership_of(company_admin, team),
                                        actor=company_admin, role=role)
    assert membership_of(company_admin, team).role == MembershipRole.ADMIN
    assert not AuditEvent.objects.filter(action="membership.role_changed").exists()


def test_admin_may_step_down_when_another_admin_remains(team, company_admin):
    MembershipFactory(signatory=team, role=MembershipRole.ADMIN)
    services.membership_change_role(membership=membership_of(company_admin, team),
                                    actor=company_admin, role=MembershipRole.REPORTER)
    assert membership_of(company_admin, team).role == MembershipRole.REPORTER


def test_admins_of_another_company_do_not_count_as_the_remaining_admin(team, company_admin,
                                                                      outsider):
    with pytest.raises(DomainError, match="at least one administrator"):
        services.membership_change_role(membership=membership_of(company_admin, team),
                                        actor=company_admin, role=MembershipRole.VIEWER)


def test_admin_keeping_the_admin_role_is_not_refused(team, company_admin):
    services.membership_change_role(membership=membership_of(company_admin, team),
                                    actor=company_admin, role=MembershipRole.ADMIN)
    assert membership_of(company_admin, team).role == MembershipRole.ADMIN


# --- Removal and leaving ---------------------------------------------------------------------

def test_admin_removes_a_member_who_loses_access(team, company_admin, viewer):
    services.membership_remove(membership=membership_of(viewer, team), actor=company_admin)
    assert not Membership.objects.filter(user=viewer, signatory=team).exists()
    assert User.objects.filter(pk=viewer.pk).exists()  # the account itself stays
    assert not fresh(viewer).has_perm("signatories.view_signatory", team)
    event = AuditEvent.objects.get(action="membership.removed")
    assert (event.actor, event.signatory) == (company_admin, team)
    assert event.changes == {"user": {"from": "viewer@nordic.example"}}


@pytest.mark.parametrize("who", NOT_MANAGERS)
def test_only_a_company_admin_can_remove_someone_else(who, team, company_admin, persona):
    target = MembershipFactory(signatory=team, role=MembershipRole.VIEWER)
    with pytest.raises(PermissionDenied):
        services.membership_remove(membership=target, actor=persona(who))
    assert Membership.objects.filter(pk=target.pk).exists()
    assert not AuditEvent.objects.filter(action="membership.removed").exists()


@pytest.mark.parametrize("who", ["reporter", "viewer"])
def test_member_can_leave_the_company(who, team, persona):
    user = persona(who)
    services.membership_remove(membership=membership_of(user, team), actor=user)
    assert not Membership.objects.filter(user=user, signatory=team).exists()
    event = AuditEvent.objects.get(action="membership.left")
    assert (event.actor, event.signatory) == (user, team)


def test_last_admin_cannot_leave(team, company_admin):
    with pytest.raises(DomainError, match="at least one administrator"):
        services.membership_remove(membership=membership_of(company_admin, team),
                                   actor=company_admin)
    assert membership_of(company_admin, team).role == MembershipRole.ADMIN
    assert not AuditEvent.objects.filter(action__startswith="membership.").exists()


def test_admin_can_leave_when_another_admin_remains(team, company_admin):
    MembershipFactory(signatory=team, role=MembershipRole.ADMIN)
    services.membership_remove(membership=membership_of(company_admin, team), actor=company_admin)
    assert not Membership.objects.filter(user=company_admin, signatory=team).exists()
    assert AuditEvent.objects.get(action="membership.left").actor == company_admin


def test_admin_removing_the_other_admin_becomes_the_last_and_cannot_leave(team, company_admin):
    other = MembershipFactory(signatory=team, role=MembershipRole.ADMIN)
    services.membership_remove(membership=other, actor=company_admin)
    with pytest.raises(DomainError, match="at least one administrator"):
        services.membership_remove(membership=membership_of(company_admin, team),
                                   actor=company_admin)


# --- Personal API token ----------------------------------------------------------------------

def test_api_token_regenerate_replaces_the_token_and_the_old_one_stops_working(reporter):
    first = services.api_token_regenerate(user=reporter)
    second = services.api_token_regenerate(user=reporter)

    assert second.key != first.key
    assert list(Token.objects.filter(user=reporter).values_list("key", flat=True)) == \
        [second.key]
    user, _ = TokenAuthentication().authenticate_credentials(second.key)
    assert user == reporter
    with pytest.raises(AuthenticationFailed):
        TokenAuthentication().authenticate_credentials(first.key)
    events = AuditEvent.objects.filter(action="user.api_token_regenerated")
    assert events.count() == 2
    assert {e.actor for e in events} == {reporter}


def test_regenerating_a_token_leaves_other_users_tokens_alone(reporter, viewer):
    theirs = services.api_token_regenerate(user=viewer)
    services.api_token_regenerate(user=reporter)
    assert Token.objects.filter(key=theirs.key, user=viewer).exists()
