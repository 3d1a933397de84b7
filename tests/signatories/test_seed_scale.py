"""``manage.py seed_scale --signatories N``: the bulk data the benchmarks run on."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, Q

from signatories.models import Membership, MembershipRole, Signatory, SignatoryStatus, SignatoryType
from signatories.permissions import allowed_transitions

pytestmark = pytest.mark.django_db

S = SignatoryStatus
SIGNED = {S.ACTIVE, S.REPORTING_OVERDUE, S.SUSPENDED, S.EXPELLED}


def seed(n: int, **options) -> str:
    out = StringIO()
    call_command("seed_scale", signatories=n, stdout=out, **options)
    return out.getvalue()


def test_seeds_n_signatories_in_every_status_and_type_each_with_an_admin():
    output = seed(300, seed=7, batch_size=70, password="bench-password-2026")
    assert Signatory.objects.count() == 300
    assert "Created 300 signatories" in output
    statuses = dict(Signatory.objects.values_list("status").annotate(n=Count("id")))
    assert set(statuses) == set(S.values)
    # most members are active, as in the real membership
    assert statuses[S.ACTIVE] > 300 * 0.4
    assert set(Signatory.objects.values_list("type", flat=True)) == set(SignatoryType.values)
    assert Signatory.objects.values("country").distinct().count() >= 20

    admins = Membership.objects.filter(role=MembershipRole.ADMIN)
    assert admins.count() == 300
    assert admins.values("signatory").distinct().count() == 300
    assert Membership.objects.filter(role=MembershipRole.REPORTER).count() == 75  # every fourth

    # the rows are what the lifecycle would have produced
    assert not Signatory.objects.filter(status__in=SIGNED, signed_at__isnull=True).exists()
    assert not Signatory.objects.filter(status__in=SIGNED, signed_code_version__isnull=True) \
        .exists()
    assert not Signatory.objects.filter(~Q(status__in=[S.APPLIED, S.REJECTED]),
                                        membership_number__isnull=True).exists()
    assert not Signatory.objects.filter(status__in=[S.APPLIED, S.REJECTED],
                                        membership_number__isnull=False).exists()

    # the users can log in with --password, and act on their company
    membership = admins.select_related("user", "signatory").filter(
        signatory__status=S.APPROVED).first()
    user = authenticate(username=membership.user.email, password="bench-password-2026")
    assert user == membership.user
    assert "sign" in allowed_transitions(user, membership.signatory)


def test_second_run_adds_to_the_first_without_clashing():
    seed(40, seed=1)
    seed(40, seed=1)  # same seed: names repeat, unique fields must not
    assert Signatory.objects.count() == 80
    assert Membership.objects.filter(role=MembershipRole.ADMIN).count() == 80


def test_same_seed_gives_the_same_mix():
    seed(60, seed=3)
    first = list(Signatory.objects.order_by("id").values_list("status", "type", "country"))
    Signatory.objects.all().delete()
    seed(60, seed=3)
    assert list(Signatory.objects.order_by("id").values_list("status", "type", "country")) == first


def test_without_a_password_the_users_cannot_log_in():
    seed(5, seed=2)
    membership = Membership.objects.select_related("user").first()
    assert not membership.user.has_usable_password()


@pytest.mark.parametrize("options", [{"signatories": -1}, {"signatories": 5, "batch_size": 0}])
def test_bad_arguments_stop_with_a_message(options):
    with pytest.raises(CommandError):
        call_command("seed_scale", stdout=StringIO(), **options)
    assert Signatory.objects.count() == 0
