"""The demo data the run command loads: every signatory state, staff logins, hotel partner
requests in every state and an audit sample; loading it twice changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from code_portal.models import StaffRole, User
from signatories.models import (
    AuditItemStatus,
    AuditSample,
    Signatory,
    SignatoryStatus,
    SignatoryType,
)
from signatories.partners.models import ConfirmationRequest

pytestmark = pytest.mark.django_db


def _counts() -> tuple:
    return (Signatory.objects.count(), User.objects.count(), ConfirmationRequest.objects.count(),
            AuditSample.objects.count())


def test_seed_demo_covers_the_states_users_meet_and_is_idempotent():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "demo-password-2026" in out.getvalue()
    # every status and every type of signatory is on screen in the demo
    assert set(Signatory.objects.values_list("status", flat=True)) == set(SignatoryStatus.values)
    assert set(Signatory.objects.values_list("type", flat=True)) == set(SignatoryType.values)
    # each company has its admin, who can log in with the printed password
    for signatory in Signatory.objects.all():
        admin = signatory.memberships.get(role="admin").user
        assert admin.check_password("demo-password-2026")
    assert "staff@thecode.example" in out.getvalue()
    assert set(User.objects.exclude(staff_role="").values_list("staff_role", flat=True)) == {
        StaffRole.ADMIN, StaffRole.REVIEWER, StaffRole.LOCAL_REP}
    assert {"pending", "confirmed", "declined"} <= set(
        ConfirmationRequest.objects.values_list("status", flat=True))
    sample = AuditSample.objects.get()
    assert sample.items.filter(status=AuditItemStatus.IN_PROGRESS).count() == 1
    assert all(item.signatory.status == SignatoryStatus.ACTIVE for item in sample.items.all())

    before = _counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == before
