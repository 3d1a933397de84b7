"""Schema-driven fuzzing of the audit sampling API as Code staff: no input makes the server fail
(5xx). Same set-up as ``tests/code_portal/test_api_fuzz.py`` (whose company admin only ever
gets 404 here); item paths point at a real item so requests reach serializers and services."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from signatories import sampling
from signatories.models import SignatoryStatus
from tests.code_portal.test_api_fuzz import (  # noqa: F401  (fixtures)
    EXAMPLES,
    _keep_test_connection,
    api_schema,
    call,
    fuzz_settings,
    schema,
)
from tests.factories import SignatoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_world(staff_admin):
    for _ in range(3):
        SignatoryFactory(country="SE", status=SignatoryStatus.ACTIVE, active=True)
    sample = sampling.audit_sample_draw(actor=staff_admin, country="SE", size=2)
    return {"token": Token.objects.create(user=staff_admin).key, "sample": sample.pk,
            "item": sample.items.first().pk}


@schema.include(path_regex=r"^/api/v1/audit-").parametrize()
@fuzz_settings(EXAMPLES * 3)
def test_sampling_api_never_fails_with_a_server_error_for_staff(case, staff_world):
    params = case.path_parameters or {}
    if "id" in params:
        params["id"] = staff_world["item" if "/audit-items/" in case.operation.path
                                   else "sample"]
    call(case, headers={"Authorization": f"Token {staff_world['token']}"})
