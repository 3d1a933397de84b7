"""The signatory lifecycle through its services: states, roles, audit trail, e-mails, profile.

Company A (Sweden) is moved into whatever state a test needs; the personas of
``tests/conftest.py`` act on it.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition
from django_fsm_log.models import StateLog

from code_portal.errors import DomainError
from code_portal.models import AuditEvent, User
from signatories import services
from signatories.models import CodeVersion, Membership, MembershipRole, Signatory
from signatories.models import SignatoryStatus as S
from tests.factories import MembershipFactory, SignatoryFactory, UserFactory

pytestmark = pytest.mark.django_db

# The lifecycle as the issue describes it: which states each transition leaves from, and where
# it leads. Written out here on purpose, so a change to the model's graph fails a test.
ALLOWED_FROM = {
    "approve": {S.APPLIED},
    "reject": {S.APPLIED},
    "sign": {S.APPROVED},
    "flag_overdue": {S.ACTIVE},
    "suspend": {S.ACTIVE, S.REPORTING_OVERDUE},
    "reinstate": {S.REPORTING_OVERDUE, S.SUSPENDED},
    "withdraw": {S.APPLIED, S.APPROVED, S.ACTIVE, S.REPORTING_OVERDUE, S.SUSPENDED},
    "expel": {S.ACTIVE, S.REPORTING_OVERDUE, S.SUSPENDED},
}
TARGET = {
    "approve": S.APPROVED,
    "reject": S.REJECTED,
    "sign": S.ACTIVE,
    "flag_overdue": S.REPORTING_OVERDUE,
    "suspend": S.SUSPENDED,
    "reinstate": S.ACTIVE,
    "withdraw": S.WITHDRAWN,
    "expel": S.EXPELLED,
}
TRANSITIONS = list(ALLOWED_FROM)
ALL_STATES = list(S)

# Who may perform each transition on company A (Sweden), per signatories/permissions.py.
MAY = {
    "approve": {"staff_reviewer", "staff_admin", "local_rep_sweden"},
    "reject": {"staff_reviewer", "staff_admin", "local_rep_sweden"},
    "sign": {"company_admin"},
    "flag_overdue": {"staff_reviewer", "staff_admin", "local_rep_sweden"},
    "suspend": {"staff_reviewer", "staff_admin"},
    "reinstate": {"staff_reviewer", "staff_admin"},
    "withdraw": {"company_admin", "staff_reviewer", "staff_admin"},
    "expel": {"staff_admin"},
}
PERSONAS = ["company_admin", "reporter", "viewer", "outsider", "staff_reviewer", "staff_admin",
            "local_rep_sweden", "local_rep_other_country", "anonymous"]
# An actor who holds the permission, so that state tests test only the state.
ENTITLED = {name: ("company_admin" if name == "sign" else "staff_admin") for name in TRANSITIONS}
# Transitions that tell the company's administrators by e-mail.
NOTIFIED = ["approve", "reject", "suspend", "expel"]
# Decisions that must give a reason (approve may, sign records the Code version instead).
MUST_SAY_WHY = ["reject", "flag_overdue", "suspend", "reinstate", "withdraw", "expel"]

REASON = "Reviewed the file with the board"
SIGNED_STATES = {S.ACTIVE, S.REPORTING_OVERDUE, S.SUSPENDED, S.EXPELLED}


def in_state(signatory: Signatory, status: str) -> Signatory:
    """The signatory moved (behind the services' back) into ``status`` with consistent fields."""
    now = timezone.now()
    fields = {"status": status, "membership_number": None, "approved_at": None,
              "signed_at": None, "member_since": None, "signer_name": "", "signer_title": "",
              "signed_code_version": None, "reporting_deadline": None}
    if status not in (S.APPLIED, S.REJECTED):
        fields |= {"membership_number": f"TC-SE-{signatory.pk:06d}", "approved_at": now}
    if status in SIGNED_STATES:
        fields |= {"signed_at": now, "member_since": now.date(), "signer_name": "Eva Lund",
                   "signer_title": "CEO",
                   "signed_code_version": CodeVersion.objects.get(is_current=True),
                   "reporting_deadline": now.date() + timedelta(days=365)}
    Signatory.objects.filter(pk=signatory.pk).update(**fields)
    return Signatory.objects.get(pk=signatory.pk)


def run(name: str, signatory: Signatory, actor, reason: str = REASON) -> Signatory:
    if name == "sign":
        return services.signatory_sign(signatory=signatory, actor=actor, signer_name="Eva Lund",
                                       signer_title="Managing Director")
    return services.TRANSITION_SERVICES[name](signatory=signatory, actor=actor, reason=reason)


def snapshot(signatory: Signatory) -> dict:
    return {f.attname: getattr(signatory, f.attname) for f in Signatory._meta.concrete_fields}


def db_row(signatory: Signatory) -> dict:
    return Signatory.objects.filter(pk=signatory.pk).values().get()


def trail_counts(signatory: Signatory) -> tuple[int, int, int]:
    return (AuditEvent.objects.filter(signatory=signatory).count(),
            StateLog.objects.for_(signatory).count(),
            signatory.history.count())


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


# --- States ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TRANSITIONS)
@pytest.mark.parametrize("state", ALL_STATES)
def test_transition_is_allowed_only_from_its_source_states(
    name, state, team, persona, mailoutbox, django_capture_on_commit_callbacks
):
    signatory = in_state(team, state)
    actor = persona(ENTITLED[name])
    if state in ALLOWED_FROM[name]:
        result = run(name, signatory, actor)
        assert result.status == TARGET[name]
        assert Signatory.objects.get(pk=signatory.pk).status == TARGET[name]
        return

    before_obj, before_row, before_trail = snapshot(signatory), db_row(signatory), \
        trail_counts(signatory)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError) as exc:
        run(name, signatory, actor)
    assert str(S(state).label) in exc.value.message
    assert str(services.ACTION_LABELS[name]) in exc.value.message
    # nothing half-saved: not the row, not the caller's object, no audit, no log, no mail
    assert db_row(signatory) == before_row
    assert snapshot(signatory) == before_obj
    assert trail_counts(signatory) == before_trail
    assert mailoutbox == []


def test_refusal_message_names_the_current_state_in_plain_words(team, staff_admin):
    signatory = in_state(team, S.REJECTED)
    with pytest.raises(DomainError, match="A signatory that is “Rejected” cannot be approved."):
        services.signatory_approve(signatory=signatory, actor=staff_admin)


def test_model_lists_exactly_the_transitions_available_in_each_state(team):
    for state in ALL_STATES:
        signatory = in_state(team, state)
        available = {t.name for t in signatory.get_available_status_transitions()}
        assert available == {n for n in TRANSITIONS if state in ALLOWED_FROM[n]}, state


def test_status_cannot_be_assigned_directly(team):
    signatory = in_state(team, S.APPLIED)
    with pytest.raises(AttributeError):
        signatory.status = S.ACTIVE


# --- Roles -----------------------------------------------------------------------------------

@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("name", TRANSITIONS)
def test_transition_is_allowed_only_for_the_right_roles(
    name, who, team, persona, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    state = sorted(ALLOWED_FROM[name])[0]
    signatory = in_state(team, state)
    actor = persona(who)
    if who in MAY[name]:
        result = run(name, signatory, actor)
        assert result.status == TARGET[name]
        event = AuditEvent.objects.get(signatory=signatory, action=f"signatory.{name}")
        assert event.actor == actor
        return

    before_row, before_trail = db_row(signatory), trail_counts(signatory)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        run(name, signatory, actor)
    assert db_row(signatory) == before_row
    assert trail_counts(signatory) == before_trail
    assert mailoutbox == []


@pytest.mark.parametrize("name", ["flag_overdue", "suspend", "reinstate"])
def test_system_jobs_may_change_state_and_are_recorded_as_system(name, team):
    signatory = in_state(team, sorted(ALLOWED_FROM[name])[0])
    run(name, signatory, None, reason="Annual report 14 days overdue")
    event = AuditEvent.objects.get(signatory=signatory, action=f"signatory.{name}")
    assert event.actor is None
    assert event.actor_label == "system"
    assert StateLog.objects.for_(signatory).get().by is None


def test_local_rep_may_approve_signatories_of_any_of_their_countries(team, local_rep_sweden):
    local_rep_sweden.staff_countries = ["KE", "SE"]
    local_rep_sweden.save()
    signatory = in_state(team, S.APPLIED)
    services.signatory_approve(signatory=signatory, actor=local_rep_sweden)
    assert signatory.status == S.APPROVED


def test_deactivated_staff_admin_can_no_longer_expel(team, staff_admin):
    staff_admin.is_active = False
    staff_admin.save()
    signatory = in_state(team, S.ACTIVE)
    with pytest.raises(PermissionDenied):
        services.signatory_expel(signatory=signatory, actor=staff_admin, reason=REASON)
    assert Signatory.objects.get(pk=signatory.pk).status == S.ACTIVE


def test_deactivated_company_admin_can_no_longer_sign(team, company_admin):
    company_admin.is_active = False
    company_admin.save()
    signatory = in_state(team, S.APPROVED)
    with pytest.raises(PermissionDenied):
        services.signatory_sign(signatory=signatory, actor=User.objects.get(pk=company_admin.pk),
                                signer_name="Eva Lund", signer_title="CEO")
    assert Signatory.objects.get(pk=signatory.pk).status == S.APPROVED


# --- Audit trail -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", TRANSITIONS)
def test_each_transition_writes_one_audit_event_and_one_state_log(name, team, persona):
    state = sorted(ALLOWED_FROM[name])[0]
    signatory = in_state(team, state)
    actor = persona(ENTITLED[name])
    before = timezone.now()
    run(name, signatory, actor)

    event = AuditEvent.objects.get(signatory=signatory)  # exactly one
    assert event.action == f"signatory.{name}"
    assert event.actor == actor
    assert event.actor_label == actor.email
    assert (event.from_state, event.to_state) == (state, TARGET[name])
    assert event.object_id == str(signatory.pk)
    assert event.occurred_at >= before
    if name == "sign":
        assert event.reason == "Signed version 2024"
    else:
        assert event.reason == REASON

    log = StateLog.objects.for_(signatory).get()  # exactly one
    assert log.by == actor
    assert (log.source_state, log.state, log.transition) == (state, TARGET[name], name)
    assert log.description == event.reason
    assert signatory.status_changed_at >= before


@pytest.mark.parametrize("name", MUST_SAY_WHY)
@pytest.mark.parametrize("reason", ["", "   \n"])
def test_transition_that_must_say_why_refuses_a_blank_reason(name, reason, team, persona):
    signatory = in_state(team, sorted(ALLOWED_FROM[name])[0])
    before_row, before_trail = db_row(signatory), trail_counts(signatory)
    with pytest.raises(DomainError) as exc:
        run(name, signatory, persona(ENTITLED[name]), reason=reason)
    assert exc.value.field == "reason"
    assert exc.value.message == "Please give a reason."
    assert db_row(signatory) == before_row
    assert trail_counts(signatory) == before_trail


def test_approval_without_a_reason_is_recorded_with_an_empty_reason(team, staff_reviewer):
    signatory = in_state(team, S.APPLIED)
    services.signatory_approve(signatory=signatory, actor=staff_reviewer)
    assert AuditEvent.objects.get(signatory=signatory).reason == ""


def test_full_lifecycle_leaves_a_complete_ordered_history(team, staff_reviewer, staff_admin,
                                                          company_admin):
    signatory = in_state(team, S.APPLIED)
    services.signatory_approve(signatory=signatory, actor=staff_reviewer, reason="Plan OK")
    services.signatory_sign(signatory=signatory, actor=company_admin, signer_name="Eva Lund",
                            signer_title="CEO")
    services.signatory_flag_overdue(signatory=signatory, actor=None, reason="No report")
    services.signatory_suspend(signatory=signatory, actor=staff_reviewer, reason="Grace over")
    services.signatory_reinstate(signatory=signatory, actor=staff_admin, reason="Report in")
    services.signatory_expel(signatory=signatory, actor=staff_admin, reason="Board decision")

    events = AuditEvent.objects.filter(signatory=signatory).order_by("occurred_at", "id")
    assert [(e.from_state, e.to_state) for e in events] == [
        (S.APPLIED, S.APPROVED), (S.APPROVED, S.ACTIVE), (S.ACTIVE, S.REPORTING_OVERDUE),
        (S.REPORTING_OVERDUE, S.SUSPENDED), (S.SUSPENDED, S.ACTIVE), (S.ACTIVE, S.EXPELLED),
    ]
    assert StateLog.objects.for_(signatory).count() == 6


# --- Approve ---------------------------------------------------------------------------------

def test_approval_gives_a_membership_number_and_approval_time(team, staff_reviewer):
    signatory = in_state(team, S.APPLIED)
    before = timezone.now()
    services.signatory_approve(signatory=signatory, actor=staff_reviewer, reason="Plan OK")
    assert signatory.membership_number == f"TC-SE-{signatory.pk:06d}"
    assert signatory.approved_at >= before
    event = AuditEvent.objects.get(signatory=signatory)
    assert event.changes["membership_number"] == {"to": signatory.membership_number}


def test_transition_history_row_names_the_actor(team, staff_reviewer):
    signatory = in_state(team, S.APPLIED)
    services.signatory_approve(signatory=signatory, actor=staff_reviewer)
    latest = signatory.history.latest()
    assert latest.membership_number == signatory.membership_number
    assert latest.history_user == staff_reviewer


def test_membership_numbers_differ_between_signatories(staff_reviewer):
    first = SignatoryFactory(country="SE")
    second = SignatoryFactory(country="SE")
    services.signatory_approve(signatory=first, actor=staff_reviewer)
    services.signatory_approve(signatory=second, actor=staff_reviewer)
    assert first.membership_number != second.membership_number


@pytest.mark.parametrize("name", NOTIFIED)
def test_company_admins_are_emailed_about_a_decision(
    name, team, persona, mailoutbox, django_capture_on_commit_callbacks
):
    second_admin = MembershipFactory(signatory=team, role=MembershipRole.ADMIN,
                                     user=UserFactory(email="ceo@nordic.example")).user
    MembershipFactory(signatory=team, role=MembershipRole.ADMIN,
                      user=UserFactory(email="gone@nordic.example", is_active=False))
    signatory = in_state(team, sorted(ALLOWED_FROM[name])[0])
    with django_capture_on_commit_callbacks(execute=True):
        run(name, signatory, persona(ENTITLED[name]))

    assert sorted(m.to[0] for m in mailoutbox) == sorted(["admin@nordic.example",
                                                          second_admin.email])
    assert all(len(m.to) == 1 for m in mailoutbox)  # admins do not see each other's address
    status = str(S(TARGET[name]).label)
    for message in mailoutbox:
        assert status in message.subject
        assert f"/company/{signatory.pk}/" in message.body


def test_approval_email_asks_the_company_to_sign(team, staff_reviewer, mailoutbox,
                                                 django_capture_on_commit_callbacks):
    signatory = in_state(team, S.APPLIED)
    with django_capture_on_commit_callbacks(execute=True):
        services.signatory_approve(signatory=signatory, actor=staff_reviewer)
    assert "Please sign The Code" in mailoutbox[0].body


def test_rejection_email_gives_the_reason_in_plain_text_unescaped(
        team, staff_reviewer, mailoutbox, django_capture_on_commit_callbacks):
    """The text part is not HTML: "&" and quotes stay as typed (no "&amp;"); the reason the
    reviewer gave is in both parts."""
    Signatory.objects.filter(pk=team.pk).update(legal_name="Tours & Travel \"Nord\" AB",
                                                trading_name="")
    signatory = in_state(Signatory.objects.get(pk=team.pk), S.APPLIED)
    with django_capture_on_commit_callbacks(execute=True):
        services.signatory_reject(signatory=signatory, actor=staff_reviewer,
                                  reason="No child-protection policy <attached> yet")
    message = mailoutbox[0]
    assert 'Tours & Travel "Nord" AB' in message.subject
    assert 'Tours & Travel "Nord" AB' in message.body
    assert "No child-protection policy <attached> yet" in message.body
    assert "&amp;" not in message.body and "&lt;" not in message.body
    html = message.alternatives[0][0]
    assert "No child-protection policy &lt;attached&gt; yet" in html  # escaped in HTML


def test_no_email_is_sent_when_the_decision_is_rolled_back(team, staff_reviewer, mailoutbox,
                                                           django_capture_on_commit_callbacks):
    signatory = in_state(team, S.APPLIED)
    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        services.signatory_approve(signatory=signatory, actor=staff_reviewer)
        raise RuntimeError("the surrounding request failed")
    assert mailoutbox == []
    assert Signatory.objects.get(pk=signatory.pk).status == S.APPLIED


# --- Sign ------------------------------------------------------------------------------------

def test_signing_records_signer_time_code_version_and_first_deadline(team, company_admin,
                                                                    time_machine):
    time_machine.move_to(datetime(2025, 3, 10, 9, 30, tzinfo=UTC), tick=False)
    signatory = in_state(team, S.APPROVED)
    services.signatory_sign(signatory=signatory, actor=company_admin,
                            signer_name="  Eva Lund ", signer_title=" Managing Director ")
    signatory = Signatory.objects.get(pk=signatory.pk)
    assert signatory.status == S.ACTIVE
    assert signatory.signer_name == "Eva Lund"
    assert signatory.signer_title == "Managing Director"
    assert signatory.signed_at == datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
    assert signatory.signed_code_version == CodeVersion.objects.get(is_current=True)
    assert signatory.member_since == date(2025, 3, 10)
    assert signatory.reporting_deadline == date(2026, 3, 10)
    assert StateLog.objects.for_(signatory).get().by == company_admin


def test_signing_on_29_february_gives_a_deadline_on_28_february(team, company_admin,
                                                               time_machine):
    time_machine.move_to(datetime(2024, 2, 29, 12, 0, tzinfo=UTC), tick=False)
    signatory = in_state(team, S.APPROVED)
    services.signatory_sign(signatory=signatory, actor=company_admin, signer_name="Eva Lund",
                            signer_title="CEO")
    assert signatory.member_since == date(2024, 2, 29)
    assert signatory.reporting_deadline == date(2025, 2, 28)


def test_signing_keeps_a_deadline_that_staff_already_set(team, company_admin):
    signatory = in_state(team, S.APPROVED)
    Signatory.objects.filter(pk=signatory.pk).update(reporting_deadline=date(2030, 6, 30))
    signatory.refresh_from_db()
    services.signatory_sign(signatory=signatory, actor=company_admin, signer_name="Eva Lund",
                            signer_title="CEO")
    assert signatory.reporting_deadline == date(2030, 6, 30)


def test_signing_keeps_a_deadline_staff_set_after_the_page_was_loaded(team, company_admin):
    """The caller's copy of the signatory predates the staff deadline: the locked row wins."""
    signatory = in_state(team, S.APPROVED)
    stale = Signatory.objects.get(pk=signatory.pk)
    Signatory.objects.filter(pk=signatory.pk).update(reporting_deadline=date(2030, 6, 30))
    services.signatory_sign(signatory=stale, actor=company_admin, signer_name="Eva Lund",
                            signer_title="CEO")
    assert Signatory.objects.get(pk=signatory.pk).reporting_deadline == date(2030, 6, 30)


def test_signing_an_older_code_version_records_that_version(team, company_admin):
    old = CodeVersion.objects.create(version="2012", title="The Code (2012)", text="…",
                                     published_on=date(2012, 1, 1))
    signatory = in_state(team, S.APPROVED)
    services.signatory_sign(signatory=signatory, actor=company_admin, signer_name="Eva Lund",
                            signer_title="CEO", code_version=old)
    assert signatory.signed_code_version == old
    assert AuditEvent.objects.get(signatory=signatory).reason == "Signed version 2012"


@pytest.mark.parametrize(("field", "kwargs"), [
    ("signer_name", {"signer_name": "  ", "signer_title": "CEO"}),
    ("signer_title", {"signer_name": "Eva Lund", "signer_title": ""}),
])
def test_signing_without_signer_details_is_refused(field, kwargs, team, company_admin):
    signatory = in_state(team, S.APPROVED)
    before_row = db_row(signatory)
    with pytest.raises(DomainError) as exc:
        services.signatory_sign(signatory=signatory, actor=company_admin, **kwargs)
    assert exc.value.field == field
    assert db_row(signatory) == before_row
    assert trail_counts(signatory)[:2] == (0, 0)


def test_signing_without_a_current_code_text_is_refused(team, company_admin):
    CodeVersion.objects.update(is_current=False)
    signatory = in_state(team, S.APPROVED)
    with pytest.raises(DomainError, match="no current version"):
        services.signatory_sign(signatory=signatory, actor=company_admin,
                                signer_name="Eva Lund", signer_title="CEO")
    assert Signatory.objects.get(pk=signatory.pk).status == S.APPROVED


# --- Concurrency -----------------------------------------------------------------------------

@pytest.mark.parametrize("second", ["approve", "reject"])
def test_second_reviewer_acting_on_a_stale_page_is_refused(second, team, staff_reviewer,
                                                           staff_admin):
    team = in_state(team, S.APPLIED)
    seen_by_reviewer = Signatory.objects.get(pk=team.pk)
    seen_by_admin = Signatory.objects.get(pk=team.pk)
    services.signatory_approve(signatory=seen_by_reviewer, actor=staff_reviewer, reason="OK")

    with pytest.raises(DomainError, match="“Approved, awaiting signature” cannot be"):
        run(second, seen_by_admin, staff_admin)
    fresh = Signatory.objects.get(pk=team.pk)
    assert fresh.status == S.APPROVED
    assert fresh.membership_number == f"TC-SE-{team.pk:06d}"
    assert AuditEvent.objects.filter(signatory=team).count() == 1
    assert StateLog.objects.for_(team).count() == 1


def test_saving_a_stale_instance_cannot_overwrite_a_newer_state(team, staff_reviewer):
    team = in_state(team, S.APPLIED)
    stale = Signatory.objects.get(pk=team.pk)
    services.signatory_approve(signatory=team, actor=staff_reviewer)
    stale.reject()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert Signatory.objects.get(pk=team.pk).status == S.APPROVED


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="row locks (select_for_update) need PostgreSQL; SQLite locks the "
                           "whole database and cannot interleave two writers")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_staff_deciding_at_the_same_time_one_wins_the_other_is_refused():
    reviewer = UserFactory(email="r1@thecode.example", staff_role="reviewer")
    admin = UserFactory(email="a1@thecode.example", staff_role="admin")
    signatory = SignatoryFactory(country="SE")
    locked, outcome = threading.Event(), {}

    def approve_and_hold_the_lock():
        try:
            with transaction.atomic():
                services.signatory_approve(signatory=Signatory.objects.get(pk=signatory.pk),
                                           actor=reviewer, reason="first")
                locked.set()
                # keep the row locked while the other request arrives
                threading.Event().wait(0.5)
        finally:
            locked.set()
            close_old_connections()
            connection.close()

    def reject_meanwhile():
        locked.wait(5)
        try:
            services.signatory_reject(signatory=Signatory.objects.get(pk=signatory.pk),
                                      actor=admin, reason="second")
            outcome["reject"] = "done"
        except DomainError as exc:
            outcome["reject"] = exc.message
        finally:
            connection.close()

    threads = [threading.Thread(target=approve_and_hold_the_lock),
               threading.Thread(target=reject_meanwhile)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)

    assert "cannot be rejected" in outcome["reject"]
    signatory.refresh_from_db()
    assert signatory.status == S.APPROVED
    assert list(AuditEvent.objects.filter(signatory=signatory).values_list("action", flat=True)) \
        == ["signatory.approve"]


# --- Apply -----------------------------------------------------------------------------------

def application(**overrides) -> dict:
    return {"legal_name": "Alpine Travel GmbH", "trading_name": "Alpine", "type": "tour_operator",
            "country": "AT", "address": "Ring 1, Wien", "website": "https://alpine.example",
            "employees": 12, "contact_name": "Anna Berg", "contact_email": "anna@alpine.example",
            **overrides}


def apply(data=None, email="Anna@Alpine.example", **kwargs) -> Signatory:
    return services.signatory_apply(data=data or application(), applicant_email=email,
                                    applicant_name=" Anna Berg ", password="s3cret-enough!",
                                    **kwargs)


def test_applicant_becomes_the_admin_of_a_new_applied_signatory():
    signatory = apply()
    assert signatory.status == S.APPLIED
    assert signatory.membership_number is None
    membership = Membership.objects.get(signatory=signatory)
    assert membership.role == MembershipRole.ADMIN
    user = membership.user
    assert user.email == "anna@alpine.example"
    assert user.full_name == "Anna Berg"
    assert user.check_password("s3cret-enough!")
    event = AuditEvent.objects.get(signatory=signatory)
    assert (event.action, event.actor, event.to_state) == ("signatory.applied", user, S.APPLIED)


def test_logged_in_user_applies_for_a_second_company_without_a_new_account(outsider):
    signatory = services.signatory_apply(data=application(), applicant=outsider)
    assert Membership.objects.get(signatory=signatory).user == outsider
    assert User.objects.filter(email__iexact="anna@alpine.example").count() == 0


def test_application_ignores_fields_the_company_may_not_set():
    signatory = apply(application(status="active", membership_number="TC-HACK",
                                  reporting_deadline=date(2040, 1, 1)))
    signatory.refresh_from_db()
    assert signatory.status == S.APPLIED
    assert signatory.membership_number is None
    assert signatory.reporting_deadline is None


def test_application_with_an_existing_email_must_log_in_first(company_admin):
    count = Signatory.objects.count()
    with pytest.raises(DomainError) as exc:
        apply(email="ADMIN@nordic.example")
    assert exc.value.field == "applicant_email"
    assert "Log in, then apply" in exc.value.message
    assert Signatory.objects.count() == count
    assert not Membership.objects.filter(signatory__legal_name="Alpine Travel GmbH").exists()


@pytest.mark.parametrize(("existing", "new"), [
    ({"legal_name": "Alpine Travel GmbH", "country": "AT"},
     {"legal_name": "ALPINE travel gmbh"}),
    ({"website": "https://www.alpine.example/about"}, {"website": "http://alpine.example"}),
    ({"website": "https://Alpine.Example"}, {"website": "https://www.alpine.example/"}),
    ({"website": "alpine.example"}, {"website": "https://WWW.alpine.example"}),
], ids=["name-and-country-any-case", "www-and-scheme", "host-case", "no-scheme"])
def test_duplicate_application_is_flagged_on_both_signatories(existing, new):
    first = SignatoryFactory(**{"legal_name": "Somebody Else", "country": "DE",
                                "website": "https://other.example", **existing})
    second = apply(application(**new))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.possible_duplicate and second.possible_duplicate
    event = AuditEvent.objects.get(signatory=second, action="signatory.applied")
    assert event.changes == {"duplicates_of": [first.pk]}


@pytest.mark.parametrize("existing", [
    {"legal_name": "Alpine Travel GmbH", "country": "CH"},   # same name, other country
    {"website": "https://alpine.example.org"},               # other domain
    {"website": "https://shop.alpine-example.com"},
], ids=["same-name-other-country", "other-domain", "similar-domain"])
def test_different_company_is_not_flagged_as_duplicate(existing):
    first = SignatoryFactory(**{"legal_name": "Somebody Else", "country": "AT",
                                "website": "https://other.example", **existing})
    second = apply()
    first.refresh_from_db()
    assert not first.possible_duplicate
    assert not second.possible_duplicate


def test_staff_in_scope_are_emailed_about_a_new_application(
    staff_reviewer, staff_admin, local_rep_sweden, local_rep_other_country, settings,
    mailoutbox, django_capture_on_commit_callbacks
):
    settings.STAFF_NOTIFICATION_EMAILS = ["secretariat@thecode.example"]
    UserFactory(email="retired@thecode.example", staff_role="admin", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        signatory = apply(application(country="SE"))
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert sorted(message.to) == ["lcr.sweden@thecode.example", "reviewer@thecode.example",
                                  "secretariat@thecode.example", "staffadmin@thecode.example"]
    assert "Alpine Travel GmbH" in message.subject
    assert f"/staff/signatories/{signatory.pk}/" in message.body
    assert "duplicate" not in message.body


def test_staff_email_warns_about_a_possible_duplicate(staff_reviewer, mailoutbox,
                                                     django_capture_on_commit_callbacks):
    SignatoryFactory(legal_name="Alpine Travel GmbH", country="AT")
    with django_capture_on_commit_callbacks(execute=True):
        apply()
    assert "may duplicate an existing signatory" in mailoutbox[0].body


# --- Profile ---------------------------------------------------------------------------------

def test_company_admin_edits_the_profile_and_the_change_is_audited(team, company_admin):
    updated = services.signatory_update_profile(
        signatory=team, actor=company_admin,
        data={"trading_name": "Nordic", "employees": 75, "website": "https://www.nordic.example"})
    updated = Signatory.objects.get(pk=team.pk)
    assert (updated.trading_name, updated.employees) == ("Nordic", 75)
    assert updated.website_domain == "nordic.example"
    event = AuditEvent.objects.get(signatory=team)
    assert event.action == "signatory.profile_updated"
    assert event.actor == company_admin
    assert event.changes["employees"] == {"from": 50, "to": 75}
    assert event.changes["trading_name"] == {"from": "", "to": "Nordic"}


def test_legal_name_change_is_recorded_with_before_and_after(team, company_admin):
    services.signatory_update_profile(signatory=team, actor=company_admin,
                                      data={"legal_name": "Nordic Journeys AB"},
                                      reason="Company renamed after merger")
    event = AuditEvent.objects.get(signatory=team)
    assert event.action == "signatory.renamed"
    assert event.changes == {"legal_name": {"from": "Nordic Tours AB",
                                            "to": "Nordic Journeys AB"}}
    assert event.reason == "Company renamed after merger"

    latest = team.history.latest()
    assert latest.legal_name == "Nordic Journeys AB"
    assert latest.prev_record.legal_name == "Nordic Tours AB"
    assert latest.history_change_reason == "Company renamed after merger"
    assert latest.history_user == company_admin
    assert [c.field for c in latest.diff_against(latest.prev_record).changes] == ["legal_name"]


def test_profile_edit_that_changes_nothing_records_nothing(team, company_admin):
    history = team.history.count()
    services.signatory_update_profile(signatory=team, actor=company_admin,
                                      data={"legal_name": "Nordic Tours AB", "employees": 50})
    assert not AuditEvent.objects.filter(signatory=team).exists()
    assert team.history.count() == history


@pytest.mark.parametrize("who", ["reporter", "viewer", "outsider", "local_rep_other_country",
                                 "anonymous"])
def test_profile_cannot_be_edited_without_the_right_role(who, team, persona):
    before = db_row(team)
    with pytest.raises(PermissionDenied):
        services.signatory_update_profile(signatory=team, actor=persona(who),
                                          data={"legal_name": "Hijacked Ltd"})
    assert db_row(team) == before
    assert not AuditEvent.objects.filter(signatory=team).exists()


@pytest.mark.parametrize("field", ["reporting_deadline", "status", "membership_number",
                                   "possible_duplicate"])
def test_company_cannot_set_staff_only_fields(field, team, company_admin):
    before = db_row(team)
    value = {"reporting_deadline": date(2040, 1, 1), "status": S.ACTIVE,
             "membership_number": "TC-X", "possible_duplicate": False}[field]
    with pytest.raises(PermissionDenied, match=field):
        services.signatory_update_profile(signatory=team, actor=company_admin,
                                          data={"trading_name": "Nordic", field: value})
    assert db_row(team) == before


@pytest.mark.parametrize("who", ["staff_reviewer", "staff_admin", "local_rep_sweden"])
def test_staff_in_scope_can_set_the_reporting_deadline(who, team, persona):
    services.signatory_update_profile(signatory=team, actor=persona(who),
                                      data={"reporting_deadline": date(2026, 9, 30)},
                                      reason="Extension granted")
    assert Signatory.objects.get(pk=team.pk).reporting_deadline == date(2026, 9, 30)
    event = AuditEvent.objects.get(signatory=team)
    assert event.action == "signatory.profile_updated"
    assert event.changes["reporting_deadline"]["to"] == "2026-09-30"


def test_profile_edit_on_a_stale_instance_does_not_undo_a_transition(team, company_admin,
                                                                    staff_admin):
    stale = Signatory.objects.get(pk=team.pk)
    services.signatory_suspend(signatory=team, actor=staff_admin, reason="No report")
    services.signatory_update_profile(signatory=stale, actor=company_admin,
                                      data={"trading_name": "Nordic"})
    fresh = Signatory.objects.get(pk=team.pk)
    assert (fresh.status, fresh.trading_name) == (S.SUSPENDED, "Nordic")
