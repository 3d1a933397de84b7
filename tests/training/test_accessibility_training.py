"""Accessibility of the training pages: axe-core in the system Chromium finds no serious or
critical violation, with tables, forms (also with errors) and pagination on screen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.code_portal.test_accessibility import (  # noqa: F401  (fixtures)
    CHROMIUM,
    assert_accessible,
    browser_as,
    chromium,
    serious_violations,
)
from tests.factories import SignatoryFactory
from tests.training.factories import CourseFactory, RecordFactory, TrainingData

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]


@pytest.fixture
def log(company_a):
    data = TrainingData(company_a)
    CourseFactory(title="The Code e-learning")
    yearly = CourseFactory(validity_months=12)
    for n in range(30):  # more than a page; some refreshers due, some expired
        RecordFactory(trainee__signatory=company_a, trainee__department=f"Team {n % 4}",
                      course=yearly, completed_on=timezone.localdate() - timedelta(days=20 * n))
    return data


@pytest.mark.parametrize("suffix", ["", "records/", "records/?state=expired", "records/add/",
                                    "sessions/", "sessions/add/", "courses/", "courses/add/"])
def test_company_training_pages_have_no_serious_accessibility_violations(
        browser_as, company_admin, log, suffix):  # noqa: F811
    assert_accessible(browser_as(company_admin),
                      f"/company/{log.signatory.pk}/training/{suffix}")


def test_object_pages_have_no_serious_accessibility_violations(browser_as, company_admin,  # noqa: F811
                                                               log):
    page = browser_as(company_admin)
    root = f"/company/{log.signatory.pk}/training/"
    for path in (f"{root}sessions/{log.session.pk}/", f"{root}people/{log.person.pk}/",
                 f"{root}people/{log.person.pk}/erase/",
                 f"{root}records/{log.record.pk}/delete/"):
        assert_accessible(page, path)


def test_record_form_with_errors_has_no_serious_accessibility_violations(browser_as,  # noqa: F811
                                                                         reporter, log):
    page = browser_as(reporter)
    page.goto(f"/company/{log.signatory.pk}/training/records/add/")
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.locator(".field.has-error").count() > 0
    problems = serious_violations(page)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/staff/training/", "/staff/training/?country=SE"])
def test_staff_coverage_has_no_serious_accessibility_violations(browser_as, staff_reviewer,  # noqa: F811
                                                                log, path):
    for n in range(30):
        SignatoryFactory(active=True, legal_name=f"Accessible Travel {n:02d}")
    assert_accessible(browser_as(staff_reviewer), path)
