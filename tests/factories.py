"""factory_boy factories shared by all test modules."""

import factory
from django.utils import timezone

from code_portal.models import StaffRole, User
from signatories.models import (
    CodeVersion,
    Membership,
    MembershipRole,
    Signatory,
    SignatoryStatus,
    SignatoryType,
)

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    staff_role = StaffRole.REVIEWER
    is_staff = True


class SignatoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signatory

    legal_name = factory.Sequence(lambda n: f"Company {n} Ltd")
    trading_name = ""
    type = SignatoryType.TOUR_OPERATOR
    country = "SE"
    address = factory.Faker("address")
    website = factory.Sequence(lambda n: f"https://company{n}.example.com")
    employees = 50
    contact_name = factory.Faker("name")
    contact_email = factory.Sequence(lambda n: f"contact{n}@company.example.com")
    status = SignatoryStatus.APPLIED

    class Params:
        approved = factory.Trait(
            status=SignatoryStatus.APPROVED,
            approved_at=factory.LazyFunction(timezone.now),
            membership_number=factory.Sequence(lambda n: f"TC-XX-{n:06d}"),
        )
        active = factory.Trait(
            status=SignatoryStatus.ACTIVE,
            approved_at=factory.LazyFunction(timezone.now),
            signed_at=factory.LazyFunction(timezone.now),
            member_since=factory.LazyFunction(timezone.localdate),
            signer_name="Signer",
            signer_title="CEO",
            membership_number=factory.Sequence(lambda n: f"TC-XX-{n:06d}"),
        )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # `status` is a protected FSM field: set it on a fresh instance before the first save.
        status = kwargs.pop("status", SignatoryStatus.APPLIED)
        obj = model_class(*args, **kwargs)
        obj.__dict__["status"] = status
        if status in (SignatoryStatus.ACTIVE, SignatoryStatus.REPORTING_OVERDUE,
                      SignatoryStatus.SUSPENDED, SignatoryStatus.EXPELLED) and not obj.signed_at:
            obj.signed_at = timezone.now()
        if status not in (SignatoryStatus.APPLIED, SignatoryStatus.REJECTED,
                          SignatoryStatus.WITHDRAWN) and not obj.membership_number:
            obj.membership_number = f"TC-F-{Signatory.objects.count() + 1:06d}-{id(obj) % 10000}"
        obj.save()
        return obj


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    signatory = factory.SubFactory(SignatoryFactory)
    role = MembershipRole.ADMIN


def current_code_version() -> CodeVersion:
    return CodeVersion.objects.get(is_current=True)
