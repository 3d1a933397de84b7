import pytest

from signatories.models import MembershipRole, SignatoryStatus, SignatoryType
from tests.factories import MembershipFactory, SignatoryFactory, UserFactory
from tests.signatories.partners.factories import PartnerFactory


@pytest.fixture
def hotel_signatory(db):
    """A hotel that is itself a signatory (Thailand), with an admin and a viewer."""
    return SignatoryFactory(legal_name="Andaman Beach Resort", country="TH",
                            type=SignatoryType.HOTEL, status=SignatoryStatus.ACTIVE, active=True,
                            website="https://andaman.example")


@pytest.fixture
def hotel_admin(hotel_signatory):
    return MembershipFactory(signatory=hotel_signatory, role=MembershipRole.ADMIN,
                             user=UserFactory(email="gm@andaman.example")).user


@pytest.fixture
def hotel_viewer(hotel_signatory):
    return MembershipFactory(signatory=hotel_signatory, role=MembershipRole.VIEWER,
                             user=UserFactory(email="desk@andaman.example")).user


@pytest.fixture
def partner(company_a):
    return PartnerFactory(signatory=company_a, name="Andaman Beach Resort", country="TH",
                          website="https://www.andaman.example/rooms",
                          contact_email="gm@andaman.example", language="sv")


@pytest.fixture
def oncommit(django_capture_on_commit_callbacks):
    """``with oncommit(execute=True):`` runs what the services schedule on commit."""
    return django_capture_on_commit_callbacks
