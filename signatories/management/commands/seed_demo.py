"""Demo data for the run command: staff, and signatories of every type and status.

Idempotent: running it again changes nothing. Every state change goes through the services, so
the demo history looks like real use.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from code_portal.models import StaffRole, User
from signatories import services
from signatories.models import Signatory

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the local demo only

STAFF = [
    ("staff@thecode.example", "Sam Staff-Admin", StaffRole.ADMIN, []),
    ("reviewer@thecode.example", "Rita Reviewer", StaffRole.REVIEWER, []),
    ("lcr.th@thecode.example", "Lek Local-Rep", StaffRole.LOCAL_REP, ["TH"]),
]

# (legal name, trading name, type, country, website, final status path)
COMPANIES = [
    ("Nordic Sun Tours AB", "Nordic Sun", "tour_operator", "SE", "https://nordicsun.example",
     ["approve", "sign"]),
    ("Andaman Beach Resort Co., Ltd.", "", "hotel", "TH", "https://andaman.example",
     ["approve", "sign"]),
    ("Ξενοδοχεία Αιγαίου Α.Ε.", "Aegean Hotels", "hotel_group", "GR", "https://aegean.example",
     ["approve", "sign"]),
    ("Kilimanjaro Trails Ltd", "", "tour_operator", "KE", "https://kili.example",
     ["approve", "sign", "flag_overdue"]),
    ("Сибирь Трэвел ООО", "Siberia Travel", "travel_agency", "KZ", "https://siberia.example",
     ["approve", "sign", "suspend"]),
    ("Andes Air S.A.", "", "airline", "PE", "https://andesair.example", ["approve"]),
    ("Costa Rica Bus Lines", "", "transport", "CR", "https://crbus.example", []),
    ("Atlas Travel Management", "", "tmc", "MA", "https://atlas-tmc.example", []),
    ("Visit Lakeland", "", "tourism_board", "GB", "https://lakeland.example", ["reject"]),
    ("Orphanage Volunteer Trips", "", "other", "KH", "https://volunteer.example", ["reject"]),
    ("Old Harbour Hotels", "", "hotel_group", "PT", "https://oldharbour.example",
     ["approve", "sign", "withdraw"]),
    ("Fly-by-Night Holidays", "", "tour_operator", "ES", "https://flybynight.example",
     ["approve", "sign", "suspend", "expel"]),
]


class Command(BaseCommand):
    help = "Load demo data (staff users and signatories in every state) and print the logins."

    @transaction.atomic
    def handle(self, *args, **options):
        staff_admin = None
        for email, name, role, countries in STAFF:
            user, created = User.objects.get_or_create(
                email=email, defaults={"full_name": name, "staff_role": role,
                                       "staff_countries": countries,
                                       "is_staff": role != StaffRole.LOCAL_REP,
                                       "is_superuser": role == StaffRole.ADMIN})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            staff_admin = staff_admin or user
        for legal, trading, kind, country, website, path in COMPANIES:
            if Signatory.objects.filter(legal_name=legal).exists():
                continue
            slug = website.split("//")[1].split(".")[0]
            signatory = services.signatory_apply(
                data={"legal_name": legal, "trading_name": trading, "type": kind,
                      "country": country, "address": f"1 Demo Street\n{country}",
                      "website": website, "employees": 40, "contact_name": "Demo Contact",
                      "contact_email": f"contact@{slug}.example"},
                applicant_email=f"admin@{slug}.example", applicant_name=f"{trading or legal} Admin",
                password=DEMO_PASSWORD,
            )
            company_admin = signatory.memberships.get().user
            for step in path:
                if step == "sign":
                    services.signatory_sign(signatory=signatory, actor=company_admin,
                                            signer_name=company_admin.full_name,
                                            signer_title="Managing Director")
                elif step == "withdraw":
                    services.signatory_withdraw(signatory=signatory, actor=company_admin,
                                                reason="Business closed (demo)")
                else:
                    services.TRANSITION_SERVICES[step](
                        signatory=signatory, actor=staff_admin,
                        reason=f"Demo: {step.replace('_', ' ')}")
        seed_partners()
        seed_audit_sample(staff_admin)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins (password for all: "
                                             f"{DEMO_PASSWORD}):"))
        for email, _name, role, _countries in STAFF:
            self.stdout.write(f"  {email:32} Code staff ({role})")
        for _legal, trading, _kind, _country, website, _path in COMPANIES[:6]:
            slug = website.split("//")[1].split(".")[0]
            self.stdout.write(f"  admin@{slug}.example{'':12} company admin, {trading or _legal}")


# (name, kind, country, city, carries clause, answer): the answer puts the demo request in
# each state — None: never asked, "pending", "confirmed", "declined", "expired", "cancelled".
PARTNERS = [
    ("Andaman Beach Resort Co., Ltd.", "hotel", "TH", "Krabi", True, "pending"),
    ("Phuket Old Town Hotel", "hotel", "TH", "Phuket", True, "confirmed"),
    ("Chiang Mai Riverside Lodge", "hotel", "TH", "Chiang Mai", True, "declined"),
    ("Aegean Blue Suites", "hotel", "GR", "Naxos", False, "expired"),
    ("Lisbon Harbour Inn", "hotel", "PT", "Lisbon", True, "cancelled"),
    ("Siam Coach Transfers", "transport", "TH", "Bangkok", True, None),
    ("Krabi Island Hopping", "excursions", "TH", "Krabi", False, None),
]


def seed_partners() -> None:
    """Nordic Sun's hotel partners, with confirmation requests in every state (idempotent).
    Andaman Beach Resort is linked to the signatory of that name, whose admin sees the request
    at /company/<id>/partner-requests/."""
    from datetime import timedelta

    from django.utils import timezone

    from signatories.partners import services as partners
    from signatories.partners.models import ConfirmationRequest, Partner

    operator = Signatory.objects.filter(legal_name="Nordic Sun Tours AB").first()
    if operator is None or Partner.objects.filter(signatory=operator).exists():
        return
    admin = operator.memberships.get(role="admin").user
    hotel = Signatory.objects.filter(legal_name="Andaman Beach Resort Co., Ltd.").first()
    for name, kind, country, city, clause, answer in PARTNERS:
        slug = name.split()[0].lower()
        partner = partners.partner_create(actor=admin, signatory=operator, data={
            "name": name, "kind": kind, "country": country, "city": city,
            "contact_email": f"manager@{slug}.example", "carries_clause": clause,
            "contract_reference": f"NS-{country}-{slug[:4].upper()}"})
        if hotel is not None and name == hotel.legal_name:
            partners.partner_link(actor=admin, partner=partner, linked=hotel)
        if answer is None:
            continue
        req = partners.confirmation_request_send(actor=admin, partner=partner)
        if answer == "confirmed":
            partners.confirmation_confirm(request_id=req.pk, name="Demo Manager",
                                          position="General manager", ip="192.0.2.10",
                                          user_agent="Demo browser")
        elif answer == "declined":
            partners.confirmation_decline(request_id=req.pk, name="Demo Owner", position="Owner",
                                          reason="We are reviewing our policies first (demo).")
        elif answer == "cancelled":
            partners.confirmation_request_cancel(actor=admin, request=req)
        elif answer == "expired":
            past = timezone.now() - timedelta(days=45)
            ConfirmationRequest.objects.filter(pk=req.pk).update(
                sent_at=past, expires_at=past + timedelta(days=30))
            partners.confirmation_requests_expire()


def seed_audit_sample(staff_admin: User) -> None:
    """One audit sample over the active members (seeded, so the demo draw is reproducible), with
    one audit under way (idempotent)."""
    from datetime import timedelta

    from django.utils import timezone

    from signatories.models import AuditItemStatus, AuditSample
    from signatories.sampling import audit_item_update, audit_sample_draw

    if AuditSample.objects.exists():
        return
    sample = audit_sample_draw(actor=staff_admin, size=2, seed="demo-2026",
                               title="Demo: in-depth audits of active members")
    item = sample.items.order_by("id").first()
    if item is not None:
        audit_item_update(item=item, actor=staff_admin, data={
            "status": AuditItemStatus.IN_PROGRESS, "auditor": staff_admin,
            "findings": "Policy on file; staff training records requested.",
            "follow_up_on": timezone.localdate() + timedelta(days=30)})
