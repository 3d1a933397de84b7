"""The staff dossier of a signatory: every section, internal notes kept internal, 404 for
outsiders, and a fixed number of queries however much the signatory has."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from code_portal.audit import audit_record
from code_portal.models import User
from code_portal.reminders.models import Notification, NotificationStatus
from reporting.models import Certificate, ReportStatus
from signatories import sampling, services
from signatories.models import MembershipRole, Signatory, StaffNote
from signatories.partners.models import RequestStatus
from signatories.partners.selectors import confirmation_summary
from tests.factories import MembershipFactory, SignatoryFactory, UserFactory
from tests.reporting.factories import ReportFactory
from tests.signatories.partners.factories import PartnerFactory, RequestFactory
from tests.training.factories import HeadcountFactory, RecordFactory, TraineeFactory

pytestmark = pytest.mark.django_db

NOTE = "Internal: the CEO asked us not to publish the audit."
FINDING = "Internal finding: the clause is missing from 3 hotel contracts."

_sequence = iter(range(1, 100000))


def certificate(report, *, revoked=False, replaces=None) -> Certificate:
    n = next(_sequence)
    valid_from = date(report.year + 1, 1, 15)
    return Certificate.objects.create(
        signatory=report.signatory, report=report, year=report.year, sequence=n,
        number=f"TC-{report.year}-{n:06d}", code=f"CODE{n:08d}",
        company_name=report.signatory.legal_name, country=report.signatory.country.code,
        valid_from=valid_from, valid_until=valid_from + timedelta(days=364),
        issued_at=timezone.now(), revoked_at=timezone.now() if revoked else None,
        replaces=replaces)


def confirmed(partner, *, days_ago=10):
    day = timezone.localdate() - timedelta(days=days_ago)
    return RequestFactory(partner=partner, status=RequestStatus.CONFIRMED, confirmed_on=day,
                          valid_until=day + timedelta(days=364), responded_at=timezone.now(),
                          responder_name="Hotel manager")


def notification(signatory, n: int, **kwargs) -> Notification:
    return Notification.objects.create(
        key=f"report-due:{signatory.pk}:{n}", kind="report-due", signatory=signatory,
        recipients=["admin@nordic.example"], template="reminders/email/report_due",
        status=NotificationStatus.SENT, sent_at=timezone.now(), **kwargs)


def dossier_url(signatory) -> str:
    return reverse("staff-signatory-detail", args=[signatory.pk])


def sub_urls(signatory) -> list[str]:
    return [dossier_url(signatory), reverse("staff-signatory-history", args=[signatory.pk]),
            reverse("staff-signatory-notes", args=[signatory.pk])]


@pytest.fixture
def full_company(company_a, company_admin, viewer, staff_reviewer, staff_admin):
    """Company A with something in every section of the dossier."""
    services.invitation_create(signatory=company_a, actor=company_admin,
                               email="newcomer@nordic.example", role=MembershipRole.REPORTER)
    services.staff_note_add(signatory=company_a, actor=staff_reviewer, text=NOTE)
    HeadcountFactory(signatory=company_a, employees=10, customer_facing_employees=4)
    for _ in range(3):
        RecordFactory(trainee=TraineeFactory(signatory=company_a, is_customer_facing=True))
    approved = ReportFactory(signatory=company_a, year=2029, status=ReportStatus.APPROVED,
                             reviewer=staff_admin, overall_score="met",
                             decision_reason="All six criteria evidenced.")
    certificate(approved)
    ReportFactory(signatory=company_a, year=2030, status=ReportStatus.SUBMITTED)
    sample = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=1,
                                        title="Nordic audits")
    item = sample.items.get()
    sampling.audit_item_update(item=item, actor=staff_reviewer, data={
        "findings": FINDING, "follow_up_on": timezone.localdate() - timedelta(days=2)})
    return {"signatory": company_a, "report": approved, "item": item}


def test_the_dossier_shows_every_section(web_as, staff_reviewer, full_company):
    company = full_company["signatory"]
    response = web_as(staff_reviewer).get(dossier_url(company))
    assert response.status_code == 200
    html = response.content.decode()
    for heading in ("profile-h", "users-h", "training-h", "partners-h", "reports-h", "audits-h",
                    "notifications-h", "notes-h", "history-h"):
        assert f'id="{heading}"' in html, heading
    dossier = response.context["dossier"]
    # users: members, then the open invitation
    assert [(u["kind"], u["email"]) for u in dossier.users] == [
        ("member", "admin@nordic.example"), ("member", "viewer@nordic.example"),
        ("invitation", "newcomer@nordic.example")]
    # training coverage: 3 trained of 10 employees, 3 of 4 customer-facing
    assert dossier.coverage["share"] == 30.0
    assert dossier.coverage["cf_share"] == 75.0
    assert reverse("staff-training-detail", args=[company.pk]) in html
    # every report, its decision and its certificate
    assert [r.year for r in dossier.reports] == [2030, 2029]
    cert = Certificate.objects.get()
    assert dossier.reports[1].cert_pk == cert.pk
    assert dossier.reports[0].cert_pk is None
    assert reverse("staff-report-review", args=[full_company["report"].pk]) in html
    assert reverse("staff-certificate", args=[cert.pk]) in html
    assert cert.number in html
    assert "All six criteria evidenced." in html
    # the audit, flagged overdue
    assert [i.pk for i in dossier.audit_items] == [full_company["item"].pk]
    assert reverse("staff-audit-item", args=[full_company["item"].pk]) in html
    assert "overdue" in html
    assert NOTE in html
    # short lists: no "see all" links
    assert reverse("staff-signatory-history", args=[company.pk]) not in html
    assert reverse("staff-signatory-notes", args=[company.pk]) not in html


def test_partner_figures_match_the_partners_apps_summary(web_as, staff_reviewer, company_a):
    today = timezone.localdate()
    confirmed(PartnerFactory(signatory=company_a, carries_clause=True))
    confirmed(PartnerFactory(signatory=company_a, carries_clause=False))
    PartnerFactory(signatory=company_a, carries_clause=True)  # never asked
    confirmed(PartnerFactory(signatory=company_a), days_ago=400)  # ran out
    confirmed(PartnerFactory(signatory=company_a, contract_end=today - timedelta(days=1)))
    confirmed(PartnerFactory(signatory=SignatoryFactory(country="SE")))  # another operator
    dossier = web_as(staff_reviewer).get(dossier_url(company_a)).context["dossier"]
    expected = confirmation_summary(Signatory.objects.filter(pk=company_a.pk), today)
    assert dossier.partners == {
        "partners": expected["partners"], "confirmed": expected["confirmed"],
        "rate": expected["share"], "clause_contracts": expected["clause_contracts"],
        "clause_confirmed": expected["clause_confirmed"], "clause_rate": expected["clause_share"]}
    assert (dossier.partners["partners"], dossier.partners["confirmed"]) == (4, 2)
    assert (dossier.partners["clause_contracts"], dossier.partners["clause_confirmed"]) == (3, 1)


def test_the_latest_notifications_are_listed_with_a_see_all_link(web_as, staff_reviewer,
                                                                  company_a, company_b):
    for n in range(11):
        notification(company_a, n, reason=f"due in {n} days")
    notification(company_b, 99, reason="someone else's")
    client = web_as(staff_reviewer)
    response = client.get(dossier_url(company_a))
    html = response.content.decode()
    rows = response.context["dossier"].notifications
    assert len(rows) == 10 and rows.more
    assert {n.signatory_id for n in rows} == {company_a.pk}
    assert "Annual report due soon" in html
    assert "someone else" not in html
    assert reverse("company-notifications", args=[company_a.pk]) in html


def test_the_latest_certificate_in_force_is_shown_before_a_revoked_one(web_as, staff_reviewer,
                                                                       company_a):
    report = ReportFactory(signatory=company_a, year=2029, status=ReportStatus.APPROVED)
    revoked = certificate(report, revoked=True)
    current = certificate(report, replaces=revoked)
    dossier = web_as(staff_reviewer).get(dossier_url(company_a)).context["dossier"]
    assert dossier.reports[0].cert_pk == current.pk
    assert dossier.reports[0].cert_revoked_at is None


def test_long_lists_are_truncated_with_see_all_links(web_as, staff_reviewer, company_a):
    for i in range(12):
        StaffNote.objects.create(signatory=company_a, author=staff_reviewer, text=f"note {i}")
        audit_record(actor=staff_reviewer, action="signatory.profile_updated", obj=company_a,
                     signatory=company_a)
    for i in range(26):
        MembershipFactory(signatory=company_a, role=MembershipRole.VIEWER,
                          user=UserFactory(email=f"m{i:02d}@nordic.example"))
    client = web_as(staff_reviewer)
    response = client.get(dossier_url(company_a))
    html = response.content.decode()
    dossier = response.context["dossier"]
    assert (len(dossier.notes), len(dossier.events), len(dossier.users)) == (10, 10, 25)
    for name in ("staff-signatory-history", "staff-signatory-notes", "company-team"):
        assert reverse(name, args=[company_a.pk]) in html, name
    notes = client.get(reverse("staff-signatory-notes", args=[company_a.pk]))
    assert len(notes.context["page"]) == 12
    history = client.get(reverse("staff-signatory-history", args=[company_a.pk]))
    assert len(history.context["page"]) == 12


def test_local_rep_sees_their_countrys_dossier_but_not_other_countries_audits(
        web_as, local_rep_sweden, staff_reviewer, company_a):
    everywhere = sampling.audit_sample_draw(actor=staff_reviewer, size=1)
    swedish = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", size=1)
    response = web_as(local_rep_sweden).get(dossier_url(company_a))
    assert response.status_code == 200
    assert [i.sample_id for i in response.context["dossier"].audit_items] == [swedish.pk]
    assert everywhere.items.get().signatory == company_a


@pytest.mark.parametrize("persona", ["local_rep_other_country", "company_admin", "reporter",
                                     "viewer", "outsider"])
def test_dossier_pages_are_404_for_others(request, web_as, persona, full_company):
    client = web_as(request.getfixturevalue(persona))
    for url in sub_urls(full_company["signatory"]):
        assert client.get(url).status_code == 404, url
    assert client.post(dossier_url(full_company["signatory"]),
                       {"text": "planted"}).status_code == 404
    assert not StaffNote.objects.filter(text="planted").exists()


@pytest.mark.parametrize("persona", ["company_admin", "viewer"])
def test_notes_and_audit_findings_never_reach_the_company(request, web_as, api_as, persona,
                                                          full_company):
    pk = full_company["signatory"].pk
    user = request.getfixturevalue(persona)
    client = web_as(user)
    pages = [reverse(name, args=[pk]) for name in (
        "company-dashboard", "company-profile", "company-team", "company-reports",
        "company-certificates", "training-home")]
    pages.append(reverse("report-detail", args=[full_company["report"].pk]))
    for url in pages:
        response = client.get(url, follow=True)
        assert response.status_code in (200, 403), url  # a viewer may not edit the profile
        body = response.content.decode()
        assert NOTE not in body and FINDING not in body, url
        assert "Nordic audits" not in body, url
    api = api_as(user)
    for url in (f"/api/v1/signatories/{pk}/", f"/api/v1/signatories/{pk}/history/",
                f"/api/v1/signatories/{pk}/members/", "/api/v1/signatories/",
                f"/api/v1/reports/{full_company['report'].pk}/"):
        response = api.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert NOTE not in body and FINDING not in body and "audit_item" not in body, url


def test_staff_dossier_is_where_the_note_and_finding_are(web_as, staff_reviewer, full_company):
    item = full_company["item"]
    html = web_as(staff_reviewer).get(reverse("staff-audit-item", args=[item.pk])).content
    assert FINDING in html.decode()


# --- a fixed number of queries ------------------------------------------------------------------

def fill(company, staff, admin, start, stop):
    """Add rows to every section of the dossier."""
    for i in range(start, stop):
        MembershipFactory(signatory=company, role=MembershipRole.VIEWER,
                          user=UserFactory(email=f"member{i:03d}@nordic.example"))
        services.invitation_create(signatory=company, actor=admin,
                                   email=f"invitee{i:03d}@nordic.example",
                                   role=MembershipRole.VIEWER)
        StaffNote.objects.create(signatory=company, author=staff, text=f"note {i}")
        audit_record(actor=UserFactory(email=f"actor{i:03d}@nordic.example"),
                     action="signatory.profile_updated", obj=company, signatory=company)
        report = ReportFactory(signatory=company, year=2000 + i, status=ReportStatus.APPROVED,
                               reviewer=staff)
        certificate(report, replaces=certificate(report, revoked=True))
        RecordFactory(trainee=TraineeFactory(signatory=company, department=f"Dept {i}"))
        SignatoryFactory(country="SE", status="active", active=True)
        sample = sampling.audit_sample_draw(actor=staff, country="SE", percentage=100,
                                            seed=f"s{i}")
        item = sample.items.get(signatory=company)
        sampling.audit_item_update(item=item, actor=staff, data={"auditor": staff})
        confirmed(PartnerFactory(signatory=company))
        notification(company, i)


@pytest.mark.parametrize("persona", ["staff_reviewer", "local_rep_sweden"])
def test_dossier_queries_do_not_grow_with_rows(request, client, company_a, company_admin,
                                               staff_reviewer, persona,
                                               django_assert_max_num_queries):
    HeadcountFactory(signatory=company_a)
    user = User.objects.get(pk=request.getfixturevalue(persona).pk)
    client.force_login(user)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(dossier_url(company_a))
        assert response.status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    fill(company_a, staff_reviewer, company_admin, 0, 1)
    few = queries()
    fill(company_a, staff_reviewer, company_admin, 1, 14)
    many = queries()
    assert len(many) == len(few), "\n".join(many)
    with django_assert_max_num_queries(10):
        response = client.get(dossier_url(company_a))
    dossier = response.context["dossier"]
    assert len(dossier.reports) == 14
    assert len(dossier.audit_items) == 10 and dossier.audit_items.more
    assert all(r.cert_revoked_at is None for r in dossier.reports)
    assert dossier.partners["confirmed"] == 14
    assert len(dossier.notifications) == 10 and dossier.notifications.more


# --- possible duplicates ------------------------------------------------------------------------

APPLICATION = {"trading_name": "", "type": "tour_operator", "address": "Storgatan 1",
               "employees": 12, "contact_name": "Eva", "contact_email": "eva@dup.example"}


def apply_as_new_company(email: str, **fields) -> Signatory:
    return services.signatory_apply(data={**APPLICATION, **fields}, applicant_email=email,
                                    applicant_name="Eva", password="long-enough-passphrase-9")


def test_dossier_of_a_flagged_application_links_the_signatories_it_may_duplicate(
        web_as, staff_reviewer):
    by_name = SignatoryFactory(legal_name="Nordic Sun Travel AB", country="SE",
                               website="https://nordicsun.example")
    by_domain = SignatoryFactory(legal_name="Sunny Fjords AS", country="NO",
                                 website="https://www.midnight-sun.example")
    unrelated = SignatoryFactory(legal_name="Coral Reef Tours", country="SE")
    new = apply_as_new_company("eva@dup.example", legal_name="NORDIC SUN TRAVEL AB",
                               country="SE", website="http://midnight-sun.example/about")
    assert new.possible_duplicate

    response = web_as(staff_reviewer).get(dossier_url(new))
    assert list(response.context["dossier"].duplicates) == [by_name, by_domain]
    html = response.content.decode()
    for other in (by_name, by_domain):
        assert f'href="{dossier_url(other)}"' in html
    assert dossier_url(unrelated) not in html


def test_duplicates_the_viewer_may_not_see_are_not_listed(web_as, local_rep_sweden):
    thai = SignatoryFactory(legal_name="Siam Sun", country="TH", website="https://siam.example")
    new = apply_as_new_company("eva@siam-copy.example", legal_name="Siam Sun Sweden",
                               country="SE", website="https://siam.example")
    assert new.possible_duplicate
    response = web_as(local_rep_sweden).get(dossier_url(new))
    assert response.status_code == 200
    assert response.context["dossier"].duplicates == []
    assert dossier_url(thai) not in response.content.decode()


def test_unflagged_signatory_looks_up_no_duplicates(web_as, staff_reviewer, company_a):
    SignatoryFactory(legal_name=company_a.legal_name, country=company_a.country)  # not flagged
    response = web_as(staff_reviewer).get(dossier_url(company_a))
    assert response.context["dossier"].duplicates == []
    assert "Possible duplicate of" not in response.content.decode()
