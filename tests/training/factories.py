"""factory_boy factories for the training app.

Records are made consistent with their course: ``expires_on`` is computed like the service does,
and the record's company is the person's company.
"""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from tests.factories import SignatoryFactory
from training.models import (
    Course,
    DeliveryMode,
    Headcount,
    Trainee,
    TrainingRecord,
    TrainingSession,
)
from training.services import expiry_for


class CourseFactory(factory.django.DjangoModelFactory):
    """A catalogue course by default; pass ``signatory=`` for a company's own course."""

    class Meta:
        model = Course

    signatory = None
    title = factory.Sequence(lambda n: f"Child protection course {n}")
    provider = "The Code"
    delivery_mode = DeliveryMode.ELEARNING
    language = "en"
    duration_hours = Decimal("2.0")
    covers_childrens_rights = True
    covers_prevention = True
    covers_reporting = True
    validity_months = 24


class TraineeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trainee

    signatory = factory.SubFactory(SignatoryFactory)
    staff_reference = factory.Sequence(lambda n: f"EMP-{n:05d}")
    name = factory.Faker("name")
    department = "Sales"
    is_customer_facing = True


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingSession

    signatory = factory.SubFactory(SignatoryFactory)
    course = factory.SubFactory(CourseFactory)
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    location = "Stockholm office"
    trainer = "Eva Lind"


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRecord

    trainee = factory.SubFactory(TraineeFactory)
    signatory = factory.LazyAttribute(lambda o: o.trainee.signatory)
    course = factory.SubFactory(CourseFactory)
    completed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=60))
    expires_on = factory.LazyAttribute(lambda o: expiry_for(o.course, o.completed_on))


class HeadcountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Headcount

    signatory = factory.SubFactory(SignatoryFactory)
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    employees = 10
    customer_facing_employees = 4


class TrainingData:
    """A company's small training log: one own course, a session with a record, a person."""

    def __init__(self, signatory, *, prefix: str = "A"):
        self.signatory = signatory
        self.course = CourseFactory(signatory=signatory, title=f"{prefix} in-house course")
        self.session = SessionFactory(signatory=signatory, course=self.course)
        self.person = TraineeFactory(signatory=signatory, name=f"{prefix} Person",
                                     staff_reference=f"{prefix}-001")
        self.record = RecordFactory(trainee=self.person, course=self.course,
                                    session=self.session)
        self.headcount = HeadcountFactory(signatory=signatory)
