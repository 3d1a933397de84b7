"""Who may do what with signatories, in one place (django-rules predicates).

Company roles come from ``Membership``; Code staff roles from ``User.staff_role``. A local
representative acts only on signatories of their countries. Views, the API and templates all
ask ``user.has_perm("signatories.<verb>", signatory)``.
"""

from __future__ import annotations

import rules

from code_portal.models import StaffRole
from signatories.models import MembershipRole


def _role_in(user, signatory) -> str | None:
    # a deactivated user keeps their memberships but acts for nobody (as staff predicates do)
    if not user.is_authenticated or not user.is_active or signatory is None:
        return None
    # memberships may be prefetched by the caller (lists), so avoid a query when they are
    cache = getattr(user, "_membership_roles", None)
    if cache is None:
        cache = dict(user.memberships.values_list("signatory_id", "role"))
        user._membership_roles = cache
    return cache.get(signatory.pk)


@rules.predicate
def is_staff_admin(user) -> bool:
    return user.is_authenticated and user.is_active and user.staff_role == StaffRole.ADMIN


@rules.predicate
def is_staff_reviewer(user) -> bool:
    return user.is_authenticated and user.is_active and user.staff_role == StaffRole.REVIEWER


@rules.predicate
def is_local_rep(user) -> bool:
    return user.is_authenticated and user.is_active and user.staff_role == StaffRole.LOCAL_REP


@rules.predicate
def is_local_rep_for(user, signatory) -> bool:
    return bool(
        is_local_rep(user)
        and signatory is not None
        and signatory.country.code in {c.code for c in user.staff_countries}
    )


@rules.predicate
def is_company_admin(user, signatory) -> bool:
    return _role_in(user, signatory) == MembershipRole.ADMIN


@rules.predicate
def is_company_reporter(user, signatory) -> bool:
    return _role_in(user, signatory) in {MembershipRole.ADMIN, MembershipRole.REPORTER}


@rules.predicate
def is_company_member(user, signatory) -> bool:
    return _role_in(user, signatory) is not None


is_central_staff = is_staff_admin | is_staff_reviewer
is_code_staff = is_central_staff | is_local_rep
staff_for = is_central_staff | is_local_rep_for

rules.add_perm("signatories.view_signatory", is_company_member | staff_for)
rules.add_perm("signatories.edit_profile", is_company_admin | staff_for)
rules.add_perm("signatories.manage_members", is_company_admin)
rules.add_perm("signatories.view_members", is_company_member | staff_for)
rules.add_perm("signatories.view_history", is_company_member | staff_for)
rules.add_perm("signatories.view_staff_notes", staff_for)
rules.add_perm("signatories.add_staff_note", staff_for)
rules.add_perm("signatories.view_queue", is_code_staff)

# Lifecycle transitions: the verb is the name of the service/transition.
rules.add_perm("signatories.approve", staff_for)
rules.add_perm("signatories.reject", staff_for)
rules.add_perm("signatories.sign", is_company_admin)
rules.add_perm("signatories.flag_overdue", staff_for)
rules.add_perm("signatories.suspend", is_central_staff)
rules.add_perm("signatories.reinstate", is_central_staff)
rules.add_perm("signatories.withdraw", is_company_admin | is_central_staff)
rules.add_perm("signatories.expel", is_staff_admin)

TRANSITIONS = ("approve", "reject", "sign", "flag_overdue", "suspend", "reinstate", "withdraw",
               "expel")
# Transitions that must say why.
REASON_REQUIRED = {"reject", "flag_overdue", "suspend", "reinstate", "withdraw", "expel"}


def allowed_transitions(user, signatory) -> list[str]:
    """Transitions the user may perform on the signatory in its current state."""
    available = {t.name for t in signatory.get_available_status_transitions()}
    return [name for name in TRANSITIONS
            if name in available and user.has_perm(f"signatories.{name}", signatory)]


# --- Sampling for audits (issue 8) ---------------------------------------------------------------
# Central staff draw samples over any countries and see every sample. A local representative
# draws samples of one of their countries and sees only the samples of their countries (a
# sample over every country is central staff's). Any Code staff who can see a sample may
# update its audit items.

def _rep_countries(user) -> set[str]:
    return {c.code for c in user.staff_countries}


@rules.predicate
def is_local_rep_for_sample(user, sample) -> bool:
    return bool(is_local_rep(user) and sample is not None and sample.country
                and sample.country.code in _rep_countries(user))


@rules.predicate
def is_local_rep_for_item(user, item) -> bool:
    return item is not None and is_local_rep_for_sample(user, item.sample)


rules.add_perm("signatories.view_audit_samples", is_code_staff)
rules.add_perm("signatories.draw_audit_sample", is_code_staff)
rules.add_perm("signatories.view_audit_sample", is_central_staff | is_local_rep_for_sample)
rules.add_perm("signatories.edit_audit_item", is_central_staff | is_local_rep_for_item)


def may_sample_country(user, country: str) -> bool:
    """Whether the user may draw a sample over ``country`` ("" = every country)."""
    if is_central_staff(user):
        return True
    return bool(is_local_rep(user) and country and country in _rep_countries(user))
