"""Every list runs a fixed number of queries, however many rows there are.

Each list is filled with more rows than a page (25) and asked for with 30 and with 60 rows
under the same maximum. The maxima are the fixed queries of the request (session, user,
the user's roles, count, page) plus a little headroom, far below a page of rows: a query per
row would exceed them. ``test_query_count_does_not_grow_with_rows`` also compares 1 row with
60 rows exactly.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from code_portal.audit import audit_record
from code_portal.models import User
from signatories import services
from signatories.models import MembershipRole, SignatoryStatus, SignatoryType, StaffNote
from tests.factories import MembershipFactory, SignatoryFactory, UserFactory

pytestmark = pytest.mark.django_db

S = SignatoryStatus
TYPES = list(SignatoryType.values)


# --- what to fill each list with -----------------------------------------------------------------

def signatories(status: str) -> Callable[[dict, int, int], None]:
    def seed(world, start, stop):
        for i in range(start, stop):
            SignatoryFactory(legal_name=f"Company {i:03d}", status=status, country="SE",
                             type=TYPES[i % len(TYPES)], possible_duplicate=i % 7 == 0)
    return seed


def mixed_signatories(world, start, stop):
    statuses = [S.APPLIED, S.APPROVED, S.ACTIVE, S.SUSPENDED, S.REPORTING_OVERDUE]
    for i in range(start, stop):
        SignatoryFactory(legal_name=f"Company {i:03d}", status=statuses[i % len(statuses)],
                         country="SE", type=TYPES[i % len(TYPES)])


def companies_of_admin(world, start, stop):
    for i in range(start, stop):
        MembershipFactory(user=world["company_admin"], role=MembershipRole.ADMIN,
                          signatory=SignatoryFactory(legal_name=f"Company {i:03d}"))


def members(world, start, stop):
    for i in range(start, stop):
        MembershipFactory(signatory=world["company_a"], role=MembershipRole.VIEWER,
                          user=UserFactory(email=f"member{i:03d}@nordic.example"))


def invitations(world, start, stop):
    for i in range(start, stop):
        services.invitation_create(signatory=world["company_a"], actor=world["company_admin"],
                                   email=f"invitee{i:03d}@nordic.example",
                                   role=MembershipRole.REPORTER)


def events(world, start, stop):
    for i in range(start, stop):
        actor = UserFactory(email=f"actor{i:03d}@nordic.example")
        audit_record(actor=actor, action="signatory.profile_updated", obj=world["company_a"],
                     signatory=world["company_a"], changes={"employees": {"from": i, "to": i + 1}})


def team(world, start, stop):
    members(world, start, stop)
    invitations(world, start, stop)


def dossier(world, start, stop):
    members(world, start, stop)
    events(world, start, stop)
    for i in range(start, stop):
        StaffNote.objects.create(signatory=world["company_a"], author=world["staff_reviewer"],
                                 text=f"note {i}")


@dataclass(frozen=True)
class Listing:
    name: str
    persona: str | None  # None: anonymous
    url: str  # formatted with the world's objects
    seed: Callable[[dict, int, int], None]
    max_queries: int
    api: bool = False


LISTS = [
    Listing("staff list page", "staff_reviewer", "/staff/signatories/", mixed_signatories, 6),
    Listing("staff list page, filtered", "staff_reviewer",
            "/staff/signatories/?status=applied&status=active&country=SE&search=company",
            mixed_signatories, 6),
    Listing("staff list page, local rep", "local_rep_sweden", "/staff/signatories/",
            mixed_signatories, 6),
    Listing("staff queue", "staff_reviewer", "/staff/", signatories(S.APPLIED), 6),
    Listing("staff dossier", "staff_reviewer", "/staff/signatories/{a}/", dossier, 10),
    Listing("public members page", None, "/members/", signatories(S.ACTIVE), 4),
    Listing("public members page, search", None, "/members/?q=company",
            signatories(S.ACTIVE), 4),
    Listing("public members API", None, "/api/v1/public/signatories/?search=company",
            signatories(S.ACTIVE), 4, api=True),
    Listing("signatory API, staff", "staff_reviewer",
            "/api/v1/signatories/?status=active&country=SE", signatories(S.ACTIVE), 4,
            api=True),
    Listing("signatory API, local rep", "local_rep_sweden", "/api/v1/signatories/",
            mixed_signatories, 4, api=True),
    Listing("signatory API, company user", "company_admin", "/api/v1/signatories/",
            companies_of_admin, 4, api=True),
    Listing("my companies page", "company_admin", "/", companies_of_admin, 5),
    Listing("history API", "viewer", "/api/v1/signatories/{a}/history/", events, 6, api=True),
    Listing("company dashboard", "viewer", "/company/{a}/", events, 11),
    Listing("team page", "company_admin", "/company/{a}/team/", team, 8),
    Listing("members API", "viewer", "/api/v1/signatories/{a}/members/", members, 5,
            api=True),
    Listing("invitations API", "company_admin", "/api/v1/signatories/{a}/invitations/",
            invitations, 5, api=True),
]


@pytest.fixture
def world(company_a, company_admin, viewer, staff_reviewer):
    return {"company_a": company_a, "company_admin": company_admin,
            "staff_reviewer": staff_reviewer}


@pytest.fixture
def ask(request, client, api_client, world):
    """Request a listing as its persona, with a freshly loaded user (no cached roles)."""
    def _ask(listing: Listing):
        url = listing.url.format(a=world["company_a"].pk)
        user = None
        if listing.persona:
            user = User.objects.get(pk=request.getfixturevalue(listing.persona).pk)
        if listing.api:
            api_client.force_authenticate(user=user)
            return lambda: api_client.get(url)
        if user is not None:
            client.force_login(user)
        return lambda: client.get(url)
    return _ask


def rows_shown(response) -> int:
    if hasattr(response, "data") and isinstance(response.data, dict):
        return len(response.data["results"])
    context = response.context
    for key in ("page", "members", "companies"):
        if key in context:
            return len(list(context[key]))
    return len(list(context["events"]))


@pytest.mark.parametrize("rows", [30, 60])
@pytest.mark.parametrize("listing", LISTS, ids=[lst.name for lst in LISTS])
def test_list_query_count_is_bounded(world, ask, django_assert_max_num_queries, listing, rows):
    listing.seed(world, 0, rows)
    get = ask(listing)
    with django_assert_max_num_queries(listing.max_queries):
        response = get()
    assert response.status_code == 200
    assert rows_shown(response) >= min(rows, 10)


@pytest.mark.parametrize("listing", LISTS, ids=[lst.name for lst in LISTS])
def test_query_count_does_not_grow_with_rows(world, ask, listing):
    def queries():
        get = ask(listing)
        with CaptureQueriesContext(connection) as ctx:
            assert get().status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    listing.seed(world, 0, 1)
    few = queries()
    listing.seed(world, 1, 60)
    many = queries()
    assert len(many) == len(few), "\n".join(many)
