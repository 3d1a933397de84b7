"""Factories for partners and confirmation requests."""

from datetime import timedelta

import factory
from django.utils import timezone

from signatories.partners import services, tokens
from signatories.partners.models import (
    LINK_VALID_DAYS,
    ConfirmationRequest,
    Partner,
    PartnerKind,
)
from tests.factories import SignatoryFactory


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    signatory = factory.SubFactory(SignatoryFactory)
    kind = PartnerKind.HOTEL
    name = factory.Sequence(lambda n: f"Hotel {n:04d}")
    country = "TH"
    city = "Phuket"
    contact_email = factory.Sequence(lambda n: f"manager{n}@hotel.example")
    carries_clause = True


class RequestFactory(factory.django.DjangoModelFactory):
    partner = factory.SubFactory(PartnerFactory)
    signatory = factory.LazyAttribute(lambda o: o.partner.signatory)
    token_salt = factory.LazyFunction(tokens.new_salt)
    token_hash = factory.LazyAttribute(lambda o: tokens.token_hash(tokens.token_for(o.token_salt)))
    email = factory.LazyAttribute(lambda o: o.partner.contact_email)
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.sent_at + timedelta(days=LINK_VALID_DAYS))

    class Meta:
        model = ConfirmationRequest
        skip_postgeneration_save = True

    @factory.post_generation
    def keep_partner_state(obj, create, extracted, **kwargs):
        # as the services do after every request they write
        if create:
            services.partner_state_refresh([obj.partner_id])


def token_of(req: ConfirmationRequest) -> str:
    return tokens.token_for(req.token_salt)
