"""The annual report's criterion 3 prefill (``partners.clause_share``): of the hotel contracts
in force on 31 December (or today), the share that carry the Code clause and whose hotel's
confirmation is valid on that day."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from reporting import services as reports
from reporting.models import Answer
from signatories.partners.models import PartnerKind, RequestStatus
from signatories.partners.selectors import clause_share
from tests.signatories.partners.factories import PartnerFactory, RequestFactory

pytestmark = pytest.mark.django_db


def _confirmed(partner, on: date, until: date):
    return RequestFactory(partner=partner, status=RequestStatus.CONFIRMED, confirmed_on=on,
                          valid_until=until, responder_name="GM", responded_at=timezone.now())


def test_clause_share_counts_confirmed_hotel_contracts_with_the_clause(company_a):
    year = timezone.localdate().year - 1
    end = date(year, 12, 31)
    a, b = (PartnerFactory(signatory=company_a, carries_clause=True) for _ in range(2))
    _confirmed(a, date(year, 3, 1), date(year + 1, 2, 28))
    _confirmed(b, date(year, 6, 1), end)  # its last valid day
    PartnerFactory(signatory=company_a, carries_clause=True)  # clause, never confirmed
    no_clause = PartnerFactory(signatory=company_a, carries_clause=False)
    _confirmed(no_clause, date(year, 3, 1), date(year + 1, 2, 28))
    # not counted: another kind, a contract that ended, a confirmation that ran out
    _confirmed(PartnerFactory(signatory=company_a, kind=PartnerKind.TRANSPORT),
               date(year, 3, 1), date(year + 1, 2, 28))
    PartnerFactory(signatory=company_a, contract_end=end - timedelta(days=1))
    expired = PartnerFactory(signatory=company_a, carries_clause=True)
    _confirmed(expired, date(year - 1, 1, 1), end - timedelta(days=1))

    assert clause_share(company_a, end) == 40.0  # 2 of 5 hotel contracts in force
    assert clause_share(company_a, end + timedelta(days=1)) == 20.0  # b ran out


def test_no_hotel_contracts_means_no_prefill(company_a):
    assert clause_share(company_a, timezone.localdate()) is None


def test_a_new_report_is_prefilled_with_the_clause_share(reporter, company_a):
    year = timezone.localdate().year - 1
    confirmed = PartnerFactory(signatory=company_a, carries_clause=True)
    _confirmed(confirmed, date(year, 3, 1), date(year + 1, 2, 28))
    PartnerFactory(signatory=company_a, carries_clause=True)
    report = reports.report_start(actor=reporter, signatory=company_a, year=year)
    values = dict(Answer.objects.filter(report=report, question__prefill="partners.clause_share")
                  .values_list("question__prefill", "value"))
    assert values == {"partners.clause_share": 50.0}
