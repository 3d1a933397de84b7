"""Schema-driven fuzzing of the API: no input makes the server fail (5xx).

schemathesis reads the OpenAPI schema the app serves at ``/api/schema/`` and calls operations
in-process through the WSGI app with generated data: every operation as a company admin with a
personal token (``Authorization: Token …``), and the public operations (token exchange, apply,
public member list) as an anonymous visitor, with data that fits the schema and data that breaks
it. For the admin, signatory paths point at the admin's own company, its team and its
invitations, so requests get past the 404 and reach serializers and services (that outsiders
get 404 is tested per endpoint elsewhere); other paths keep the generated ids.

Examples per operation are bounded (``FUZZ_EXAMPLES``, default 3 for every operation and five
times that for the few public ones) and derandomized, so the module runs in well under a minute
and a failure in CI reproduces locally. Raise ``FUZZ_EXAMPLES`` for a deeper run.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.constants import NOT_SET

from code_portal.wsgi import application
from signatories import services
from signatories.models import MembershipRole
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
PUBLIC_OPERATIONS = r"^/api/v1/(public/|auth/token/|signatories/apply/)"


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    # Regression: loading the schema goes through the WSGI handler, whose request signals call
    # close_old_connections; when an earlier test in this process left a connection open, that
    # touched the database outside any test and failed setup ("Database access not allowed").
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with django_db_blocker.unblock():
            # JSON, not the default YAML: PyYAML takes seconds to parse a schema this size.
            return schemathesis.from_wsgi("/api/schema/?format=json", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.fixture(autouse=True)
def _keep_test_connection():
    # Calling the raw WSGI app fires request_started/finished, whose close_old_connections
    # closes a connection that is inside the test's transaction (on PostgreSQL). Django's
    # test client disconnects it in the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def fuzz_settings(max_examples: int):
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        # No shrinking or explaining: on a failure the first example is reported as found.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


@pytest.fixture
def company_world(company_a, company_admin, reporter, viewer, outsider):
    """Real objects of the admin's company for path parameters, and the admin's token."""
    invitation, _token = services.invitation_create(
        signatory=company_a, actor=company_admin, email="new.colleague@nordic.example",
        role=MembershipRole.VIEWER)
    extra = MembershipFactory(signatory=company_a, role=MembershipRole.REPORTER,
                              user=UserFactory(email="second.reporter@nordic.example"))
    return {
        "token": Token.objects.create(user=company_admin).key,
        "signatory": company_a.pk,
        "membership": extra.pk,
        "invitation": invitation.pk,
    }


def pin_path_parameters(case, world: dict) -> None:
    """Point signatory paths at the admin's own company and its team."""
    params = case.path_parameters
    if not params:
        return
    path = case.operation.path
    if "signatory_pk" in params:
        params["signatory_pk"] = world["signatory"]
        if "id" in params:
            params["id"] = world["invitation"] if "/invitations/" in path else world["membership"]
    elif path.startswith("/api/v1/signatories/{id}") and "id" in params:
        params["id"] = world["signatory"]


def call(case, **kwargs):
    # Rate limits (token, apply) would turn most examples into 429s: start each one afresh.
    cache.clear()
    if case.body is not NOT_SET and not isinstance(case.body, dict) and case.media_type in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        # A form encoding cannot carry a bare scalar: send the same body as JSON instead.
        case.media_type = "application/json"
    response = case.call_wsgi(**kwargs)
    case.validate_response(response, checks=(not_a_server_error,))
    return response


@schema.parametrize()
@fuzz_settings(EXAMPLES)
def test_api_never_fails_with_a_server_error_for_a_company_admin(case, company_world):
    pin_path_parameters(case, company_world)
    call(case, headers={"Authorization": f"Token {company_world['token']}"})


@schema.include(path_regex=PUBLIC_OPERATIONS).parametrize(
    data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative])
@fuzz_settings(EXAMPLES * 5)
def test_public_api_never_fails_with_a_server_error_for_an_anonymous_visitor(case, company_a):
    call(case)
