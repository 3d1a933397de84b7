"""Sampling for audits: the draw (reproducible, filtered, recorded) and the audit items."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from code_portal.errors import DomainError
from code_portal.models import AuditEvent
from signatories import sampling, selectors
from signatories.models import (
    AuditItem,
    AuditItemStatus,
    AuditOutcome,
    AuditSample,
    SignatoryStatus,
    SignatoryType,
)
from tests.factories import SignatoryFactory

pytestmark = pytest.mark.django_db

S = SignatoryStatus
T = SignatoryType


def active(n, **kwargs):
    return [SignatoryFactory(status=S.ACTIVE, active=True, **kwargs) for _ in range(n)]


def drawn_ids(sample: AuditSample) -> list[int]:
    return list(sample.items.order_by("position").values_list("signatory_id", flat=True))


# --- the draw ----------------------------------------------------------------------------------

def test_same_seed_and_population_draw_the_same_sample(staff_reviewer):
    active(40, country="SE")
    first = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=7, seed="audit-26")
    second = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=7,
                                        seed="audit-26")
    assert drawn_ids(first) == drawn_ids(second)
    assert first.population_digest == second.population_digest
    other = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=7, seed="other")
    assert drawn_ids(other) != drawn_ids(first)


def test_the_draw_is_random_random_over_the_population_ordered_by_id(staff_reviewer):
    signatories = active(30, country="SE")
    sample = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=5, seed="42")
    ids = sorted(s.pk for s in signatories)
    assert drawn_ids(sample) == random.Random("42").sample(ids, 5)  # noqa: S311


def test_the_draw_does_not_depend_on_rows_of_other_countries_or_types(staff_reviewer):
    active(25, country="SE", type=T.HOTEL)
    before = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", types=[T.HOTEL],
                                        size=5, seed="s")
    active(10, country="TH", type=T.HOTEL)
    active(10, country="SE", type=T.AIRLINE)
    SignatoryFactory(country="SE", type=T.HOTEL, status=S.APPLIED)
    after = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", types=[T.HOTEL],
                                       size=5, seed="s")
    assert drawn_ids(after) == drawn_ids(before)
    assert sampling.audit_sample_verify(before).same_sample
    assert sampling.audit_sample_verify(before).same_population


def test_verify_notices_a_changed_population(staff_reviewer):
    active(20, country="SE")
    sample = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=5, seed="v")
    active(1, country="SE")
    check = sampling.audit_sample_verify(sample)
    assert not check.same_population
    assert check.population_size == 21


def test_population_is_only_active_signatories_of_the_country_and_types(staff_reviewer):
    wanted = active(3, country="SE", type=T.HOTEL) + active(2, country="SE", type=T.AIRLINE)
    active(3, country="TH", type=T.HOTEL)
    active(2, country="SE", type=T.TOUR_OPERATOR)
    for status in (S.APPLIED, S.APPROVED, S.REPORTING_OVERDUE, S.SUSPENDED, S.EXPELLED,
                   S.WITHDRAWN, S.REJECTED):
        SignatoryFactory(country="SE", type=T.HOTEL, status=status)
    sample = sampling.audit_sample_draw(actor=staff_reviewer, country="SE",
                                        types=[T.HOTEL, T.AIRLINE], percentage=Decimal(100))
    assert sorted(drawn_ids(sample)) == sorted(s.pk for s in wanted)
    assert sample.population_size == 5
    assert sample.sample_size == 5


def test_without_filters_central_staff_draw_over_every_country_and_type(staff_admin):
    everyone = active(3, country="SE") + active(2, country="TH", type=T.AIRLINE)
    SignatoryFactory(country="KE", status=S.APPLIED)
    sample = sampling.audit_sample_draw(actor=staff_admin, size=100)
    assert sorted(drawn_ids(sample)) == sorted(s.pk for s in everyone)


@pytest.mark.parametrize(("population", "percentage", "expected"), [
    (50, "1", 1), (50, "10", 5), (51, "10", 6), (7, "100", 7), (3, "0.5", 1)])
def test_percentage_rounds_up(staff_reviewer, population, percentage, expected):
    active(population, country="SE")
    sample = sampling.audit_sample_draw(actor=staff_reviewer, country="SE",
                                        percentage=Decimal(percentage))
    assert sample.sample_size == expected == sample.items.count()
    assert sample.requested_percentage == Decimal(percentage)


def test_a_size_above_the_population_takes_everyone(staff_reviewer):
    active(4, country="SE")
    sample = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=10)
    assert (sample.requested_size, sample.sample_size, sample.population_size) == (10, 4, 4)


def test_the_draw_is_recorded_with_who_when_filters_seed_and_population(staff_reviewer):
    active(12, country="SE", type=T.HOTEL)
    sample = sampling.audit_sample_draw(actor=staff_reviewer, country="se", types=[T.HOTEL],
                                        size=3, title="Spring audits")
    sample.refresh_from_db()
    assert len(sample.seed) == 16  # generated
    assert sample.country == "SE" and sample.types == [T.HOTEL]
    assert sample.population_size == 12 and sample.sample_size == 3
    assert sample.drawn_by == staff_reviewer
    assert abs(sample.drawn_at - timezone.now()) < timedelta(minutes=1)
    assert list(sample.items.values_list("status", flat=True)) == [AuditItemStatus.PLANNED] * 3
    event = AuditEvent.objects.get(action="audit_sample.drawn", object_id=str(sample.pk))
    assert event.actor == staff_reviewer
    assert event.changes["seed"]["to"] == sample.seed
    assert event.changes["population_size"]["to"] == 12
    assert event.changes["types"]["to"] == [T.HOTEL]
    # the generated seed reproduces the sample
    again = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", types=[T.HOTEL],
                                       size=3, seed=sample.seed)
    assert drawn_ids(again) == drawn_ids(sample)


@pytest.mark.parametrize("kwargs", [
    {}, {"size": 2, "percentage": Decimal(5)}, {"size": 0}, {"percentage": Decimal(0)},
    {"percentage": Decimal(101)}, {"size": 2, "types": ["spaceline"]},
    {"size": 2, "seed": "x" * 65}])
def test_invalid_draws_are_refused(staff_reviewer, kwargs):
    active(3, country="SE")
    with pytest.raises(DomainError):
        sampling.audit_sample_draw(actor=staff_reviewer, country="SE", **kwargs)
    assert not AuditSample.objects.exists()


def test_an_empty_population_is_refused(staff_reviewer):
    SignatoryFactory(country="SE", status=S.APPLIED)
    with pytest.raises(DomainError):
        sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=1)


# --- who may draw ------------------------------------------------------------------------------

def test_local_rep_draws_in_their_own_country(local_rep_sweden):
    mine = active(3, country="SE")
    active(3, country="TH")
    sample = sampling.audit_sample_draw(actor=local_rep_sweden, country="SE", size=10)
    assert sorted(drawn_ids(sample)) == sorted(s.pk for s in mine)


def test_local_rep_cannot_sample_another_country(local_rep_other_country):
    active(3, country="SE")
    with pytest.raises(PermissionDenied):
        sampling.audit_sample_draw(actor=local_rep_other_country, country="SE", size=1)
    with pytest.raises(DomainError):
        sampling.audit_sample_draw(actor=local_rep_other_country, country="", size=1)
    assert not AuditSample.objects.exists()


@pytest.mark.parametrize("persona", ["company_admin", "viewer", "outsider"])
def test_company_users_cannot_draw(request, persona):
    active(3, country="SE")
    with pytest.raises(PermissionDenied):
        sampling.audit_sample_draw(actor=request.getfixturevalue(persona), country="SE", size=1)


# --- audit items --------------------------------------------------------------------------------

@pytest.fixture
def sample(staff_reviewer, company_a):
    return sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=1)


def test_every_item_change_is_audited_with_before_and_after(sample, staff_reviewer,
                                                             staff_admin):
    item = sample.items.get()
    follow_up = timezone.localdate() + timedelta(days=30)
    sampling.audit_item_update(item=item, actor=staff_reviewer, data={
        "status": AuditItemStatus.IN_PROGRESS, "auditor": staff_admin})
    sampling.audit_item_update(item=item, actor=staff_admin, data={
        "findings": "No policy on the intranet.", "follow_up_on": follow_up})
    sampling.audit_item_update(item=item, actor=staff_admin, data={
        "status": AuditItemStatus.CLOSED, "outcome": AuditOutcome.MINOR})
    events = list(AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(AuditItem), object_id=str(item.pk),
        action="audit_item.updated").order_by("id"))
    assert [e.actor for e in events] == [staff_reviewer, staff_admin, staff_admin]
    assert events[0].changes == {
        "status": {"from": "planned", "to": "in_progress"},
        "auditor": {"from": None, "to": str(staff_admin)}}
    assert (events[0].from_state, events[0].to_state) == ("planned", "in_progress")
    assert events[1].changes == {
        "findings": {"from": "", "to": "No policy on the intranet."},
        "follow_up_on": {"from": None, "to": str(follow_up)}}
    assert (events[1].from_state, events[1].to_state) == ("", "")
    assert events[2].changes == {"status": {"from": "in_progress", "to": "closed"},
                                 "outcome": {"from": "", "to": "minor_findings"}}
    item.refresh_from_db()
    assert item.closed_at is not None
    assert item.findings == "No policy on the intranet."


def test_an_unchanged_save_writes_no_event(sample, staff_reviewer):
    item = sample.items.get()
    before = AuditEvent.objects.count()
    sampling.audit_item_update(item=item, actor=staff_reviewer,
                               data={"status": AuditItemStatus.PLANNED})
    assert AuditEvent.objects.count() == before


def test_audit_events_stay_out_of_the_company_history(sample, staff_reviewer, company_a):
    item = sample.items.get()
    sampling.audit_item_update(item=item, actor=staff_reviewer,
                               data={"findings": "Internal finding"})
    assert not AuditEvent.objects.filter(signatory=company_a,
                                         action__startswith="audit_").exists()


def test_closing_needs_an_outcome(sample, staff_reviewer):
    item = sample.items.get()
    with pytest.raises(DomainError) as exc:
        sampling.audit_item_update(item=item, actor=staff_reviewer,
                                   data={"status": AuditItemStatus.CLOSED})
    assert exc.value.field == "outcome"
    item.refresh_from_db()
    assert item.status == AuditItemStatus.PLANNED


def test_auditor_must_be_staff_who_can_see_the_sample(sample, staff_reviewer, company_admin,
                                                      local_rep_other_country,
                                                      local_rep_sweden):
    item = sample.items.get()
    for nobody in (company_admin, local_rep_other_country):
        with pytest.raises(DomainError):
            sampling.audit_item_update(item=item, actor=staff_reviewer, data={"auditor": nobody})
    sampling.audit_item_update(item=item, actor=staff_reviewer, data={"auditor": local_rep_sweden})
    item.refresh_from_db()
    assert item.auditor == local_rep_sweden


def test_auditor_choices_are_central_staff_and_the_countrys_local_reps(
        sample, staff_reviewer, staff_admin, local_rep_sweden, local_rep_other_country,
        company_admin):
    from tests.factories import StaffFactory

    multi = StaffFactory(email="lcr.nordic@thecode.example", staff_role="local_rep",
                         staff_countries=["NO", "SE", "DK"], is_staff=False)
    assert set(selectors.auditor_choices_for(sample)) == {staff_reviewer, staff_admin,
                                                          local_rep_sweden, multi}


@pytest.mark.parametrize("persona", ["local_rep_other_country", "company_admin", "outsider"])
def test_others_cannot_update_items(request, sample, persona):
    item = sample.items.get()
    with pytest.raises(PermissionDenied):
        sampling.audit_item_update(item=item, actor=request.getfixturevalue(persona),
                                   data={"findings": "planted"})
    item.refresh_from_db()
    assert item.findings == ""


def test_local_rep_of_the_country_updates_items(sample, local_rep_sweden):
    item = sample.items.get()
    sampling.audit_item_update(item=item, actor=local_rep_sweden,
                               data={"status": AuditItemStatus.IN_PROGRESS})
    item.refresh_from_db()
    assert item.status == AuditItemStatus.IN_PROGRESS


def test_a_past_follow_up_on_an_open_item_is_overdue(staff_reviewer):
    active(3, country="SE")
    sample = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=3)
    first, second, third = sample.items.order_by("position")
    yesterday = timezone.localdate() - timedelta(days=1)
    sampling.audit_item_update(item=first, actor=staff_reviewer, data={"follow_up_on": yesterday})
    sampling.audit_item_update(item=second, actor=staff_reviewer, data={
        "follow_up_on": yesterday, "status": AuditItemStatus.CLOSED,
        "outcome": AuditOutcome.COMPLIANT})
    sampling.audit_item_update(item=third, actor=staff_reviewer,
                               data={"follow_up_on": timezone.localdate()})
    listed = selectors.audit_sample_get_for(staff_reviewer, sample.pk)
    assert (listed.overdue, listed.closed, listed.planned) == (1, 1, 2)
    first.refresh_from_db()
    third.refresh_from_db()
    assert sampling.is_overdue(first) and not sampling.is_overdue(third)


def test_local_rep_sees_only_samples_of_their_countries(staff_reviewer, local_rep_sweden,
                                                        local_rep_other_country):
    active(2, country="SE")
    active(2, country="KE")
    swedish = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=1)
    kenyan = sampling.audit_sample_draw(actor=local_rep_other_country, country="KE", size=1)
    everywhere = sampling.audit_sample_draw(actor=staff_reviewer, size=2)
    assert list(selectors.audit_sample_list_for(local_rep_sweden)) == [swedish]
    assert list(selectors.audit_sample_list_for(local_rep_other_country)) == [kenyan]
    assert set(selectors.audit_sample_list_for(staff_reviewer)) == {swedish, kenyan, everywhere}
    assert set(selectors.audit_item_list_for(local_rep_sweden)) == set(swedish.items.all())


def test_a_sample_is_bounded(staff_reviewer, monkeypatch):
    monkeypatch.setattr(sampling, "MAX_SAMPLE_SIZE", 4)
    active(10, country="SE")
    with pytest.raises(DomainError) as exc:
        sampling.audit_sample_draw(actor=staff_reviewer, country="SE", percentage=Decimal(50))
    assert exc.value.field == "percentage"
    with pytest.raises(DomainError):
        sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=5)
    assert sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=4).sample_size == 4
