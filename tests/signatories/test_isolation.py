"""Tenant isolation: another company's objects look exactly like missing ones (404).

Every signatories page and API endpoint that takes an object is listed in ``OBJECT_REQUESTS``;
``test_every_signatories_route_is_covered`` fails when a new route is added without being
listed here (or in ``NOT_OBJECT_SCOPED`` with a reason).
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from code_portal.models import AuditEvent
from signatories import services
from signatories.models import Invitation, Membership, MembershipRole, StaffNote
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

TRANSITIONS = ["approve", "reject", "sign", "flag_overdue", "suspend", "reinstate", "withdraw",
               "expel"]
REASON = {"reason": "because", "signer_name": "Mallory", "signer_title": "CEO",
          "confirm": "on"}
PROFILE = {"legal_name": "Hijacked AB", "type": "other", "country": "TH", "address": "x",
           "employees": "1", "contact_name": "Mallory", "contact_email": "m@evil.example"}


@dataclass(frozen=True)
class Req:
    """One request against company A's objects. ``url`` is a route name; ``kwargs`` name
    objects of the world (``a``, ``a_member``, ``a_invitation``) resolved at run time."""

    method: str
    url: str
    kwargs: tuple[tuple[str, str], ...]
    data: Any = None
    staff_page: bool = False
    literal: tuple[tuple[str, str], ...] = ()  # kwargs given as is (a transition's name)

    def build(self, world) -> str:
        return reverse(self.url, kwargs={**{k: world[v].pk for k, v in self.kwargs},
                                         **dict(self.literal)})

    @property
    def id(self) -> str:
        detail = dict(self.literal).get("name") or (self.data or {}).get("action", "")
        return f"{self.method} {self.url} {detail}".strip()


def _a(name="pk"):
    return ((name, "a"),)


UI = [
    Req("GET", "company-dashboard", _a()),
    Req("GET", "company-profile", _a()),
    Req("POST", "company-profile", _a(), PROFILE),
    Req("GET", "company-sign", _a()),
    Req("POST", "company-sign", _a(), REASON),
    Req("GET", "company-team", _a()),
    Req("POST", "company-team", _a(), {"email": "mallory@evil.example", "role": "admin"}),
    Req("POST", "membership-update", (("pk", "a"), ("membership_pk", "a_member")),
        {"action": "remove"}),
    Req("POST", "membership-update", (("pk", "a"), ("membership_pk", "a_member")),
        {"action": "role", "role": "viewer"}),
    Req("POST", "invitation-revoke", (("pk", "a"), ("invitation_pk", "a_invitation"))),
    *[Req("POST", "signatory-transition", _a(), REASON, literal=(("name", name),))
      for name in TRANSITIONS if name != "sign"],
    Req("GET", "staff-signatory-detail", _a(), staff_page=True),
    Req("POST", "staff-signatory-detail", _a(), {"text": "planted note"}, staff_page=True),
    Req("GET", "staff-signatory-history", _a(), staff_page=True),
    Req("GET", "staff-signatory-notes", _a(), staff_page=True),
]

API = [
    Req("GET", "signatory-detail", _a()),
    Req("PATCH", "signatory-detail", _a(), {"legal_name": "Hijacked AB"}),
    *[Req("POST", f"signatory-{name.replace('_', '-')}", _a(), REASON) for name in TRANSITIONS],
    Req("GET", "signatory-history", _a()),
    Req("GET", "signatory-members-list", _a("signatory_pk")),
    Req("GET", "signatory-members-detail", (("signatory_pk", "a"), ("pk", "a_member"))),
    Req("PATCH", "signatory-members-detail", (("signatory_pk", "a"), ("pk", "a_member")),
        {"role": "viewer"}),
    Req("DELETE", "signatory-members-detail", (("signatory_pk", "a"), ("pk", "a_member"))),
    Req("GET", "signatory-invitations-list", _a("signatory_pk")),
    Req("POST", "signatory-invitations-list", _a("signatory_pk"),
        {"email": "mallory@evil.example", "role": "admin"}),
    Req("DELETE", "signatory-invitations-detail",
        (("signatory_pk", "a"), ("pk", "a_invitation"))),
]

OBJECT_REQUESTS = UI + API

# The attacker's own company in the URL, company A's member or invitation as the child.
MIXED = [
    Req("POST", "membership-update", (("pk", "own"), ("membership_pk", "a_member")),
        {"action": "remove"}),
    Req("POST", "membership-update", (("pk", "own"), ("membership_pk", "a_member")),
        {"action": "role", "role": "admin"}),
    Req("POST", "invitation-revoke", (("pk", "own"), ("invitation_pk", "a_invitation"))),
    Req("GET", "signatory-members-detail", (("signatory_pk", "own"), ("pk", "a_member"))),
    Req("PATCH", "signatory-members-detail", (("signatory_pk", "own"), ("pk", "a_member")),
        {"role": "admin"}),
    Req("DELETE", "signatory-members-detail", (("signatory_pk", "own"), ("pk", "a_member"))),
    Req("DELETE", "signatory-invitations-detail",
        (("signatory_pk", "own"), ("pk", "a_invitation"))),
]

STAFF_ONLY = [
    Req("GET", "staff-queue", ()),
    Req("GET", "staff-signatory-list", ()),
    Req("GET", "staff-signatory-detail", _a()),
    Req("POST", "staff-signatory-detail", _a(), {"text": "planted note"}),
    Req("GET", "staff-signatory-history", _a()),
    Req("GET", "staff-signatory-notes", _a()),
    Req("GET", "staff-audit-samples", ()),
    Req("GET", "staff-audit-sample-draw", ()),
]

# Routes of the signatories app that take no company object, and why.
NOT_OBJECT_SCOPED = {
    "home": "redirects to the user's own company",
    "apply": "creates a new company",
    "public-list": "public",
    "invitation-accept": "addressed by a secret single-use token, not by id",
    "api-token": "the user's own token",
    "staff-queue": "staff list, scoped by the selector (see the list tests below)",
    "staff-signatory-list": "staff list, scoped by the selector (see the list tests below)",
    "signatory-list": "list, scoped by the selector (see the list tests below)",
    "signatory-apply": "creates a new company",
    "api-token-obtain": "exchanges the user's own credentials",
    "api-public-signatories": "public",
    # audit samples are not a company's object: scoped by selectors.audit_sample_scope_q, with
    # 404 for company users and other countries' local reps in test_sampling_views_api.py
    "staff-audit-samples": "staff list, scoped by the selector",
    "staff-audit-sample-draw": "creates a new sample",
    "staff-audit-sample": "scoped by audit_sample_scope_q (test_sampling_views_api.py)",
    "staff-audit-item": "scoped by audit_sample_scope_q (test_sampling_views_api.py)",
    "audit-sample-list": "list and draw, scoped by the selector (test_sampling_views_api.py)",
    "audit-sample-detail": "scoped by audit_sample_scope_q (test_sampling_views_api.py)",
    "audit-item-list": "list, scoped by the selector (test_sampling_views_api.py)",
    "audit-item-detail": "scoped by audit_sample_scope_q (test_sampling_views_api.py)",
}


def send(client, req: Req, world):
    url = req.build(world)
    data = dict(req.data or {})
    method = getattr(client, req.method.lower())
    if req.method == "GET":
        return method(url)
    if url.startswith("/api/"):
        return method(url, data, format="json")
    return method(url, data)


@pytest.fixture
def world(company_a, company_b, company_admin, reporter, viewer, outsider):
    services.signatory_update_profile(signatory=company_a, actor=company_admin,
                                      data={"employees": 51})
    a_invitation, _ = services.invitation_create(
        signatory=company_a, actor=company_admin, email="pending@nordic.example",
        role=MembershipRole.VIEWER)
    b_invitation, _ = services.invitation_create(
        signatory=company_b, actor=outsider, email="pending@siam.example",
        role=MembershipRole.VIEWER)
    b_member = MembershipFactory(signatory=company_b, role=MembershipRole.REPORTER)
    return {
        "a": company_a, "b": company_b,
        "a_member": Membership.objects.get(signatory=company_a, user=reporter),
        "a_invitation": a_invitation,
        "b_member": b_member, "b_invitation": b_invitation,
    }


def snapshot(world) -> dict:
    a = world["a"]
    a.refresh_from_db()
    return {
        "status": a.status, "legal_name": a.legal_name,
        "members": sorted(Membership.objects.filter(signatory=a).values_list("user_id", "role")),
        "invitations": sorted(Invitation.objects.filter(signatory=a).values_list(
            "email", "revoked_at", "accepted_at")),
        "events": AuditEvent.objects.filter(signatory=a).count(),
        "notes": StaffNote.objects.count(),
    }


@pytest.fixture
def client_for(api_client, client):
    """A logged-in client of the right kind: DRF's for the API, Django's for pages."""
    def make(user, api: bool):
        if api:
            api_client.force_authenticate(user=user)
            return api_client
        client.force_login(user)
        return client

    return make


def is_api(req: Req) -> bool:
    return req.url.startswith("signatory-") and req.url != "signatory-transition"


# --- another company's objects ------------------------------------------------------------------

@pytest.mark.parametrize("req", OBJECT_REQUESTS, ids=[r.id for r in OBJECT_REQUESTS])
@pytest.mark.parametrize("persona", ["outsider", "local_rep_other_country"])
def test_other_companys_objects_are_404(request, world, client_for, req, persona):
    before = snapshot(world)
    client = client_for(request.getfixturevalue(persona), is_api(req))
    response = send(client, req, world)
    assert response.status_code == 404, response.content[:300]
    assert snapshot(world) == before


@pytest.mark.parametrize("req", OBJECT_REQUESTS, ids=[r.id for r in OBJECT_REQUESTS])
def test_same_requests_reach_the_object_for_its_own_users(request, world, client_for, req):
    """Control: the URLs above are real, so their 404 above means isolation, not a typo."""
    persona = "staff_admin" if req.staff_page else "company_admin"
    client = client_for(request.getfixturevalue(persona), is_api(req))
    assert send(client, req, world).status_code != 404


@pytest.mark.parametrize("req", MIXED, ids=[r.id for r in MIXED])
def test_other_companys_member_or_invitation_under_own_company_is_404(world, client_for, req,
                                                                      outsider):
    before = snapshot(world)
    world = {**world, "own": world["b"]}
    response = send(client_for(outsider, is_api(req)), req, world)
    assert response.status_code == 404
    assert snapshot(world) == before


@pytest.mark.parametrize("req", MIXED, ids=[r.id for r in MIXED])
def test_own_member_or_invitation_under_own_company_is_reachable(world, client_for, req,
                                                                 outsider):
    """Control for the test above: the same shape with B's own child is not a 404."""
    world = {**world, "own": world["b"], "a_member": world["b_member"],
             "a_invitation": world["b_invitation"]}
    assert send(client_for(outsider, is_api(req)), req, world).status_code != 404


def test_every_signatories_route_is_covered():
    covered = {r.url for r in OBJECT_REQUESTS + MIXED + STAFF_ONLY} | set(NOT_OBJECT_SCOPED)
    routes = set()

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name:
                view = p.callback
                owner = getattr(view, "cls", None) or getattr(view, "view_class", None) or view
                # (the partners app, signatories.partners, has its own isolation tests)
                if (owner.__module__.startswith("signatories.")
                        and not owner.__module__.startswith("signatories.partners.")):
                    routes.add(p.name)

    walk(get_resolver().url_patterns)
    assert routes, "no signatories routes found"
    assert routes - covered == set()
    assert {r.url for r in OBJECT_REQUESTS} - routes == set()


# --- lists never show another company -----------------------------------------------------------

def test_api_list_and_search_do_not_show_other_companies(world, api_as, outsider):
    client = api_as(outsider)
    assert [r["id"] for r in client.get("/api/v1/signatories/").json()["results"]] == [
        world["b"].pk]
    assert client.get("/api/v1/signatories/", {"search": "Nordic"}).json()["count"] == 0
    assert client.get("/api/v1/signatories/", {"country": "SE"}).json()["count"] == 0


def test_local_rep_lists_do_not_show_other_countries(world, web_as, api_as,
                                                     local_rep_other_country):
    from tests.factories import SignatoryFactory

    kenyan = SignatoryFactory(legal_name="Nairobi Safaris", country="KE")
    SignatoryFactory(legal_name="Göteborg Applicant", country="SE")
    assert [r["id"] for r in api_as(local_rep_other_country).get(
        "/api/v1/signatories/").json()["results"]] == [kenyan.pk]
    client = web_as(local_rep_other_country)
    assert list(client.get(reverse("staff-queue")).context["page"]) == [kenyan]
    assert list(client.get(reverse("staff-signatory-list")).context["page"]) == [kenyan]


def test_local_rep_of_the_country_does_see_the_company(world, web_as, local_rep_sweden):
    """Control: the Kenyan representative's 404 on A is about the country, not the role."""
    response = web_as(local_rep_sweden).get(reverse("staff-signatory-detail",
                                                    args=[world["a"].pk]))
    assert response.status_code == 200


# --- company users and the staff pages ----------------------------------------------------------

@pytest.mark.parametrize("req", STAFF_ONLY, ids=[r.id for r in STAFF_ONLY])
@pytest.mark.parametrize("persona", ["company_admin", "reporter", "viewer", "outsider"])
def test_company_users_get_404_on_staff_pages(request, world, client_for, req, persona):
    before = snapshot(world)
    response = send(client_for(request.getfixturevalue(persona), False), req, world)
    assert response.status_code == 404
    assert snapshot(world) == before


@pytest.mark.parametrize("req", STAFF_ONLY, ids=[r.id for r in STAFF_ONLY])
def test_staff_pages_open_for_staff(world, client_for, req, staff_reviewer):
    assert send(client_for(staff_reviewer, False), req, world).status_code in (200, 302)


# --- staff notes stay internal ------------------------------------------------------------------

NOTE = "INTERNAL: suspect shell company 7f3a"


@pytest.mark.parametrize("persona", ["company_admin", "viewer"])
def test_staff_notes_never_appear_on_company_pages_or_api(request, world, web_as, api_as,
                                                          staff_reviewer, persona):
    services.staff_note_add(signatory=world["a"], actor=staff_reviewer, text=NOTE)
    pk = world["a"].pk
    user = request.getfixturevalue(persona)
    client = web_as(user)
    for url in (reverse("company-dashboard", args=[pk]), reverse("company-profile", args=[pk]),
                reverse("company-team", args=[pk]), reverse("company-sign", args=[pk]),
                reverse("home")):
        response = client.get(url, follow=True)
        assert NOTE not in response.content.decode(), url
    api = api_as(user)
    for url in (f"/api/v1/signatories/{pk}/", f"/api/v1/signatories/{pk}/history/",
                f"/api/v1/signatories/{pk}/members/", "/api/v1/signatories/",
                "/api/v1/public/signatories/"):
        assert NOTE not in api.get(url).content.decode(), url
    # control: the note is there for staff
    staff_page = web_as(staff_reviewer).get(reverse("staff-signatory-detail", args=[pk]))
    assert NOTE in staff_page.content.decode()
