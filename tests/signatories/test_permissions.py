"""Who may do what with a signatory (signatories/permissions.py), persona by persona.

Every check is made on company A (Sweden). The outsider is admin of company B (Thailand); they
are checked on B too, so that "refused on A" is not simply "refused everywhere".
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from signatories.models import Signatory
from signatories.models import SignatoryStatus as S
from signatories.permissions import allowed_transitions
from tests.factories import MembershipFactory, SignatoryFactory

pytestmark = pytest.mark.django_db

COMPANY = {"company_admin", "reporter", "viewer"}
STAFF_FOR_SWEDEN = {"staff_reviewer", "staff_admin", "local_rep_sweden"}
CENTRAL_STAFF = {"staff_reviewer", "staff_admin"}
PERSONAS = ["company_admin", "reporter", "viewer", "outsider", "staff_reviewer", "staff_admin",
            "local_rep_sweden", "local_rep_other_country", "anonymous"]

# perm -> personas who hold it on company A
EXPECTED = {
    "view_signatory": COMPANY | STAFF_FOR_SWEDEN,
    "view_members": COMPANY | STAFF_FOR_SWEDEN,
    "view_history": COMPANY | STAFF_FOR_SWEDEN,
    "edit_profile": {"company_admin"} | STAFF_FOR_SWEDEN,
    "manage_members": {"company_admin"},
    "view_staff_notes": STAFF_FOR_SWEDEN,
    "add_staff_note": STAFF_FOR_SWEDEN,
    "approve": STAFF_FOR_SWEDEN,
    "reject": STAFF_FOR_SWEDEN,
    "sign": {"company_admin"},
    "flag_overdue": STAFF_FOR_SWEDEN,
    "suspend": CENTRAL_STAFF,
    "reinstate": CENTRAL_STAFF,
    "withdraw": {"company_admin"} | CENTRAL_STAFF,
    "expel": {"staff_admin"},
}


@pytest.fixture
def persona(request, company_admin, reporter, viewer):
    def _get(name: str):
        if name == "anonymous":
            return AnonymousUser()
        return request.getfixturevalue(name)

    return _get


def in_state(signatory: Signatory, status: str) -> Signatory:
    # company A has signed and has a number, so every status satisfies the model's constraints
    Signatory.objects.filter(pk=signatory.pk).update(status=status)
    return Signatory.objects.get(pk=signatory.pk)


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("perm", list(EXPECTED))
def test_permission_on_a_swedish_company_by_persona(perm, who, persona, company_a):
    assert persona(who).has_perm(f"signatories.{perm}", company_a) is (who in EXPECTED[perm])


@pytest.mark.parametrize("perm", list(EXPECTED))
def test_outsider_holds_on_their_own_company_what_a_company_admin_holds(perm, outsider,
                                                                        company_b):
    assert outsider.has_perm(f"signatories.{perm}", company_b) is (
        "company_admin" in EXPECTED[perm])


@pytest.mark.parametrize("perm", ["view_signatory", "approve", "flag_overdue", "edit_profile"])
def test_local_rep_of_sweden_has_no_rights_on_a_thai_company(perm, local_rep_sweden, company_b):
    assert not local_rep_sweden.has_perm(f"signatories.{perm}", company_b)


def test_local_rep_acts_in_each_of_their_countries(local_rep_other_country, company_a,
                                                   company_b):
    local_rep_other_country.staff_countries = ["KE", "TH"]
    local_rep_other_country.save()
    assert local_rep_other_country.has_perm("signatories.approve", company_b)
    assert not local_rep_other_country.has_perm("signatories.approve", company_a)


@pytest.mark.parametrize("who", PERSONAS)
def test_only_code_staff_see_the_application_queue(who, persona):
    expected = who in CENTRAL_STAFF | {"local_rep_sweden", "local_rep_other_country"}
    assert persona(who).has_perm("signatories.view_queue") is expected


@pytest.mark.parametrize(("who", "perm"), [
    ("company_admin", "manage_members"), ("company_admin", "sign"), ("reporter", "view_signatory"),
    ("staff_admin", "expel"), ("staff_reviewer", "approve"), ("local_rep_sweden", "approve"),
])
def test_deactivated_user_loses_every_right(who, perm, persona, company_a):
    user = persona(who)
    assert user.has_perm(f"signatories.{perm}", company_a)
    user.is_active = False
    assert not user.has_perm(f"signatories.{perm}", company_a)


def test_membership_gives_rights_only_in_that_company(company_a):
    member = MembershipFactory(signatory=company_a, role="viewer").user
    assert member.has_perm("signatories.view_signatory", company_a)
    assert not member.has_perm("signatories.view_signatory", SignatoryFactory(country="SE"))


def test_permission_checks_over_many_signatories_cost_one_query(company_admin,
                                                                django_assert_max_num_queries):
    signatories = [SignatoryFactory(country="SE") for _ in range(25)]
    with django_assert_max_num_queries(1):
        assert not any(company_admin.has_perm("signatories.view_signatory", s)
                       for s in signatories)


# --- Transitions offered on pages --------------------------------------------------------------

@pytest.mark.parametrize(("state", "expected"), [
    (S.APPLIED, ["approve", "reject", "withdraw"]),
    (S.APPROVED, ["withdraw"]),
    (S.ACTIVE, ["flag_overdue", "suspend", "withdraw", "expel"]),
    (S.REPORTING_OVERDUE, ["suspend", "reinstate", "withdraw", "expel"]),
    (S.SUSPENDED, ["reinstate", "withdraw", "expel"]),
    (S.REJECTED, []),
    (S.WITHDRAWN, []),
    (S.EXPELLED, []),
])
def test_staff_admin_is_offered_every_transition_the_state_allows(state, expected, staff_admin,
                                                                  company_a):
    assert allowed_transitions(staff_admin, in_state(company_a, state)) == expected


@pytest.mark.parametrize(("who", "state", "expected"), [
    ("company_admin", S.APPLIED, ["withdraw"]),
    ("company_admin", S.APPROVED, ["sign", "withdraw"]),
    ("company_admin", S.SUSPENDED, ["withdraw"]),
    ("staff_reviewer", S.ACTIVE, ["flag_overdue", "suspend", "withdraw"]),
    ("local_rep_sweden", S.APPLIED, ["approve", "reject"]),
    ("local_rep_sweden", S.ACTIVE, ["flag_overdue"]),
    ("local_rep_sweden", S.SUSPENDED, []),
])
def test_each_role_is_offered_only_its_own_transitions(who, state, expected, persona, company_a):
    assert allowed_transitions(persona(who), in_state(company_a, state)) == expected


@pytest.mark.parametrize("who", ["reporter", "viewer", "outsider", "local_rep_other_country",
                                 "anonymous"])
@pytest.mark.parametrize("state", list(S))
def test_people_without_rights_are_offered_no_transition(who, state, persona, company_a):
    assert allowed_transitions(persona(who), in_state(company_a, state)) == []
