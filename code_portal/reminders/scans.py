"""The daily scans: find every occasion due today in a constant number of queries, claim them
(unique keys) and fan out the e-mails in batches.

Dates. Due dates, expiry dates and application days are calendar dates; the scans run on the
**UTC date** of the moment they run (``TIME_ZONE`` is UTC; beat runs them in the morning UTC).
A signatory in Auckland therefore gets its "due in 30 days" e-mail on the UTC day 30 days
before the due date, which is already that day in every time zone from UTC−6 to UTC+14 at
06:00 UTC.

Catch-up. Each scan works out the *current* occasion of an object rather than matching one
exact day, so a day beat missed is made up on the next run, and an occasion already claimed is
never sent again: due soon in 45 days sends the 60-day reminder if it has not gone yet; 20 days
overdue sends the "+15 days" one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from code_portal.errors import DomainError
from code_portal.models import StaffRole, User
from code_portal.reminders import kinds
from code_portal.reminders.models import ReminderPreference
from code_portal.reminders.services import (
    Draft,
    notifications_claim,
    notifications_claim_keys,
    reminder_settings,
)
from signatories.models import Membership, MembershipRole, Signatory, SignatoryStatus

S = SignatoryStatus
# Signatories that are chased for their reports (a suspended one was already escalated).
CHASED = (S.ACTIVE, S.REPORTING_OVERDUE)
# Report states in which the company has not handed the report in yet.
OPEN_REPORT = ("draft",)
CHUNK = 2000  # ids per IN (…) query when reading recipients
DIGEST_ROWS = 200  # rows listed in a digest e-mail (the rest are counted, the log has them)
SUSPEND_REASON = "no annual report"


def scan_date() -> date:
    """The UTC date the scans work on."""
    return timezone.now().astimezone(UTC).date()


_PLACEHOLDER = 987654321


@lru_cache(maxsize=32)
def _url_pattern(name: str, site_url: str) -> str:
    return site_url + reverse(name, args=[_PLACEHOLDER])


def absolute(name: str, *args) -> str:
    """Absolute link for e-mails. Scans build one per occasion (100k at scale): reverse() once
    per page and fill in the id, instead of resolving the pattern every time."""
    if len(args) == 1 and isinstance(args[0], int):
        return _url_pattern(name, settings.SITE_URL).replace(str(_PLACEHOLDER), str(args[0]))
    return settings.SITE_URL + reverse(name, args=args)


def _language(code: str | None) -> str:
    code = (code or "").split("-")[0].lower()
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


# --- occasions (pure) ---------------------------------------------------------------------------

def due_soon_stage(days_left: int, offsets: Iterable[int]) -> int | None:
    """The "N days before" occasion a report with ``days_left`` is in: the smallest offset that
    is ≥ days_left (60/30/7: 45 days left → 60, 30 → 30, 29 → 30, 7 → 7, 0 → 7, 61 → none)."""
    if days_left < 0:
        return None
    candidates = [o for o in offsets if o >= days_left]
    return min(candidates) if candidates else None


def overdue_occasion(days_over: int, offsets: Iterable[int], repeat: int | None) -> int | None:
    """The "+N days" occasion of a report ``days_over`` days late: the latest offset reached,
    then every ``repeat`` days after the last offset ([1], 14: 1 → 1, 14 → 1, 15 → 15, 29 → 29)."""
    reached = sorted(o for o in offsets if o <= days_over)
    if days_over < 1 or not reached:
        return None
    last = max(offsets)
    if repeat and days_over >= last:
        return last + ((days_over - last) // repeat) * repeat
    return reached[-1]


# --- report obligations -----------------------------------------------------------------------

@dataclass
class Obligation:
    signatory_id: int
    name: str
    country: str
    status: str
    year: int
    due_on: date
    report_id: int | None


def report_obligations(today: date) -> list[Obligation]:
    """Every annual report not handed in yet whose due date falls in last, this or next
    calendar year, for signatories that are chased. Two queries, whatever the number of rows.

    The due date of reporting year Y is the report's own ``due_on`` when the company started
    it (staff may have moved it), else ``reporting.services.default_due_date`` (staff's
    deadline for Y, or the anniversary of signing in Y+1). A report counts as handed in once
    submitted (under review, changes requested, approved or rejected are all past that).
    """
    from reporting.models import Report
    from reporting.services import default_due_date

    years = [today.year - 2, today.year - 1, today.year]
    signatories = list(
        Signatory.objects.filter(status__in=CHASED, member_since__isnull=False)
        .values_list("id", "legal_name", "trading_name", "country", "status", "member_since",
                     "reporting_deadline").order_by("id").iterator(chunk_size=5000))
    reports = {
        (sig, year): (pk, status, due_on)
        for pk, sig, year, status, due_on in Report.objects.filter(
            year__in=years, signatory__status__in=CHASED).values_list(
            "id", "signatory_id", "year", "status", "due_on").iterator(chunk_size=5000)
    }
    obligations = []
    for pk, legal, trading, country, status, member_since, deadline in signatories:
        for year in years:
            if year < member_since.year:
                continue
            report = reports.get((pk, year))
            if report is not None:
                if report[1] not in OPEN_REPORT:
                    continue
                due_on = report[2]
            else:
                due_on = default_due_date(
                    SimpleNamespace(reporting_deadline=deadline, member_since=member_since), year)
            obligations.append(Obligation(pk, trading or legal, str(country), status, year,
                                          due_on, report[0] if report else None))
    return obligations


@dataclass(frozen=True)
class Person:
    user_id: int
    email: str
    language: str
    role: str
    optional_off: bool


def company_people(signatory_ids: Iterable[int], roles: Iterable[str]) -> dict[int, list[Person]]:
    """Active members with these roles of these companies, with their language and whether
    they turned optional reminders off. One query per 2,000 companies."""
    ids = sorted(set(signatory_ids))
    off = ReminderPreference.objects.filter(user=OuterRef("user"), optional_reminders=False)
    people: dict[int, list[Person]] = defaultdict(list)
    for start in range(0, len(ids), CHUNK):
        rows = (Membership.objects.filter(signatory_id__in=ids[start:start + CHUNK],
                                          role__in=list(roles), user__is_active=True)
                .annotate(off=Exists(off))
                .values_list("signatory_id", "user_id", "user__email", "user__language", "role",
                             "off").order_by("signatory_id", "user__email"))
        for sig, user_id, email, language, role, is_off in rows:
            people[sig].append(Person(user_id, email, _language(language), role, is_off))
    return people


def by_language(people: Iterable[Person], *, optional: bool | None = None,
                optional_roles: Iterable[str] = ()) -> dict[str, list[str]]:
    """Group addresses by language. ``optional=True``: everyone may unsubscribe;
    ``optional_roles``: only these roles may."""
    optional_roles = set(optional_roles)
    groups: dict[str, list[str]] = defaultdict(list)
    for person in people:
        if person.optional_off and (optional or person.role in optional_roles):
            continue
        groups[person.language].append(person.email)
    return dict(groups)


def staff_people() -> list[tuple[User, bool]]:
    """Active Code staff with whether they turned optional reminders off (one query)."""
    off = ReminderPreference.objects.filter(user=OuterRef("pk"), optional_reminders=False)
    return [(u, u.off) for u in User.objects.filter(is_active=True, staff_role__in=[
        StaffRole.ADMIN, StaffRole.REVIEWER, StaffRole.LOCAL_REP]).annotate(off=Exists(off))
        .order_by("id")]


def _staff_digests(*, kind: str, today: date, template: str, rows: list[dict],
                   reason: str, extra_context: dict) -> list[Draft]:
    """One digest per staff member (their language; local representatives see only their
    countries' rows), plus one to ``STAFF_NOTIFICATION_EMAILS``. Digests are optional."""
    drafts = []
    for user, is_off in staff_people():
        if is_off:
            continue
        mine = rows
        if user.staff_role == StaffRole.LOCAL_REP:
            countries = {c.code for c in user.staff_countries}
            mine = [r for r in rows if r["country_code"] in countries]
        context = _digest_context(mine, extra_context)
        if context is not None and user.staff_role == StaffRole.LOCAL_REP \
                and "total_by_country" in extra_context:
            context["total"] = sum(n for c, n in extra_context["total_by_country"].items()
                                   if c in countries)
        if context is None:
            continue
        drafts.append(Draft(kind=kind, key=f"{kind}:{today.isoformat()}:u{user.pk}",
                            signatory_id=None, recipients=[user.email], template=template,
                            context=context, reason=reason, language=_language(user.language)))
    extra = [e for e in settings.STAFF_NOTIFICATION_EMAILS if e]
    context = _digest_context(rows, extra_context)
    if extra and context is not None:
        drafts.append(Draft(kind=kind, key=f"{kind}:{today.isoformat()}:extra",
                            signatory_id=None, recipients=extra, template=template,
                            context=context, reason=reason, language=settings.LANGUAGE_CODE))
    return drafts


def _digest_context(rows: list[dict], extra: dict) -> dict | None:
    sections = {k: [r for r in rows if r["section"] == k] for k in ("reminded", "flagged",
                                                                     "suspended", "waiting")}
    if not any(sections.values()):
        return None
    listed = {k: v[:DIGEST_ROWS] for k, v in sections.items()}
    more = sum(len(v) - len(listed[k]) for k, v in sections.items())
    context = {**extra, **listed, "rows": listed["waiting"], "more": more,
               "total": extra.get("total", len(rows))}
    context.pop("total_by_country", None)
    return context


# --- report due soon ----------------------------------------------------------------------------

@transaction.atomic
def scan_reports_due(today: date | None = None) -> list[int]:
    """60/30/7 days before the due date → the company's admins and reporters (reporters may
    unsubscribe; admins always get it). Returns the ids of the notifications claimed."""
    today = today or scan_date()
    kind = kinds.REPORT_DUE
    config = reminder_settings()[kind]
    if not config.enabled:
        return []
    offsets = config.offsets
    due = []
    for ob in report_obligations(today):
        stage = due_soon_stage((ob.due_on - today).days, offsets)
        if stage is not None:
            due.append((ob, stage))
    people = company_people([ob.signatory_id for ob, _s in due],
                            [MembershipRole.ADMIN, MembershipRole.REPORTER])
    drafts = []
    for ob, stage in due:
        days_left = (ob.due_on - today).days
        url = (absolute("report-detail", ob.report_id) if ob.report_id
               else absolute("company-reports", ob.signatory_id))
        groups = by_language(people.get(ob.signatory_id, []),
                             optional_roles=[MembershipRole.REPORTER])
        for language, emails in sorted(groups.items()):
            with override(language):
                reason = _("Annual report %(year)s is due on %(due)s: the reminder %(n)s days "
                           "before.") % {"year": ob.year, "due": ob.due_on.isoformat(),
                                          "n": stage}
            drafts.append(Draft(
                kind=kind, key=f"{kind}:{ob.signatory_id}:{ob.year}:{stage}d:{language}",
                signatory_id=ob.signatory_id, recipients=emails,
                template="reminders/email/report_due", language=language, reason=reason,
                context={"company": ob.name, "year": ob.year, "due_on": ob.due_on.isoformat(),
                         "days_left": days_left, "url": url, "optional": False}))
    return notifications_claim(drafts)


# --- report overdue, escalation and the staff digest ----------------------------------------

@dataclass
class OverdueResult:
    claimed: list[int]
    flagged: list[int]
    suspended: list[int]


def _reinstated_since(signatory_ids: list[int]) -> dict[int, date]:
    """The last time staff reinstated each signatory (one query per 2,000)."""
    from code_portal.models import AuditEvent

    last: dict[int, date] = {}
    for start in range(0, len(signatory_ids), CHUNK):
        for sig, when in (AuditEvent.objects.filter(
                action="signatory.reinstate", signatory_id__in=signatory_ids[start:start + CHUNK])
                .values("signatory_id").annotate(last=Max("occurred_at"))
                .values_list("signatory_id", "last")):
            last[sig] = when.date()
    return last


def _escalate(ob: Obligation, days_over: int, grace: int, flagged: set[int],
              suspended: set[int]) -> None:
    """Flag at the first overdue day, suspend once the grace period is over. Each step is the
    signatories service (locks the row, checks the state, audits, revokes the certificate); a
    step another run already took fails its state check and is skipped."""
    from signatories.services import signatory_flag_overdue, signatory_suspend

    sig = Signatory(pk=ob.signatory_id)
    try:
        if ob.status == S.ACTIVE and ob.signatory_id not in flagged:
            signatory_flag_overdue(
                signatory=sig, actor=None,
                reason=f"Annual report {ob.year} overdue since {ob.due_on.isoformat()}")
            flagged.add(ob.signatory_id)
            ob.status = S.REPORTING_OVERDUE
        if days_over > grace and ob.status == S.REPORTING_OVERDUE:
            signatory_suspend(signatory=sig, actor=None, reason=SUSPEND_REASON)
            suspended.add(ob.signatory_id)
            ob.status = S.SUSPENDED
    except DomainError:
        pass  # another run (or staff) changed the state first


def scan_reports_overdue(today: date | None = None) -> OverdueResult:
    """Overdue reports: escalate, remind the company admins (+1 day, then every 14 days), and
    tell staff in a digest.

    Escalation steps (``report-escalation``, grace 90 days): on the first overdue day an
    *active* signatory is flagged *reporting overdue*; when the report is more than the grace
    period late (day 91) it is *suspended* with the reason "no annual report", which revokes
    its certificate. Staff reinstating the signatory after the due date ends the escalation
    for that report: it is not flagged or suspended again for it (reminders to submit go on
    while it is active). Submitting the report ends everything.
    """
    today = today or scan_date()
    obligations = [ob for ob in report_obligations(today) if ob.due_on < today]
    flagged: set[int] = set()
    suspended: set[int] = set()
    config = reminder_settings()
    escalation = config[kinds.REPORT_ESCALATION]
    grace = min(escalation.offsets)
    # Only signatories with a step to take cost queries: active ones (flag), or past the grace
    # period (suspend). Everything else was decided by the two queries above.
    candidates = [ob for ob in obligations
                  if ob.status == S.ACTIVE or (today - ob.due_on).days > grace]
    if escalation.enabled and candidates:
        reinstated = _reinstated_since(sorted({ob.signatory_id for ob in candidates}))
        for ob in sorted(candidates, key=lambda o: o.due_on):
            if ob.signatory_id in suspended:
                continue
            since = reinstated.get(ob.signatory_id)
            if since is not None and since >= ob.due_on:
                continue
            with transaction.atomic():
                _escalate(ob, (today - ob.due_on).days, grace, flagged, suspended)
    with transaction.atomic():
        claimed = _overdue_reminders(today, obligations, flagged, suspended, config, grace)
    return OverdueResult(claimed, sorted(flagged), sorted(suspended))


def _overdue_reminders(today: date, obligations: list[Obligation], flagged: set[int],
                       suspended: set[int], config: dict, grace: int) -> list[int]:
    kind = kinds.REPORT_OVERDUE
    offsets, repeat = config[kind].offsets, config[kind].repeat_every_days
    enabled = config[kind].enabled
    due = []
    for ob in obligations:
        if ob.signatory_id in suspended:
            continue
        occasion = overdue_occasion((today - ob.due_on).days, offsets, repeat)
        if occasion is not None and enabled:
            due.append((ob, occasion))
    people = company_people([ob.signatory_id for ob, _o in due], [MembershipRole.ADMIN])
    drafts = []
    for ob, occasion in due:
        days_over = (today - ob.due_on).days
        url = (absolute("report-detail", ob.report_id) if ob.report_id
               else absolute("company-reports", ob.signatory_id))
        for language, emails in sorted(by_language(people.get(ob.signatory_id, [])).items()):
            with override(language):
                reason = _("Annual report %(year)s was due on %(due)s: the reminder %(n)s days "
                           "after.") % {"year": ob.year, "due": ob.due_on.isoformat(),
                                        "n": occasion}
            drafts.append(Draft(
                kind=kind, key=f"{kind}:{ob.signatory_id}:{ob.year}:+{occasion}d:{language}",
                signatory_id=ob.signatory_id, recipients=emails, language=language,
                template="reminders/email/report_overdue", reason=reason,
                context={"company": ob.name, "year": ob.year, "due_on": ob.due_on.isoformat(),
                         "days_over": days_over, "grace_days": grace, "url": url,
                         "optional": False}))
    won = notifications_claim_keys(drafts)
    claimed = list(won.values())
    # The digest lists the reminders this run won (not those an earlier run sent) and today's
    # escalations, so a re-run has nothing new to tell staff.
    won_occasions = {key.rsplit(":", 1)[0] for key in won}
    by_sig = {ob.signatory_id: ob for ob in obligations}
    rows = [_overdue_row(ob, today, "reminded") for ob, occasion in due
            if f"{kind}:{ob.signatory_id}:{ob.year}:+{occasion}d" in won_occasions]
    rows += [_overdue_row(by_sig[s], today, "flagged") for s in sorted(flagged - suspended)]
    rows += [_overdue_row(by_sig[s], today, "suspended") for s in sorted(suspended)]
    digest = []
    if rows and config[kinds.REPORT_OVERDUE_DIGEST].enabled:
        digest = notifications_claim(_staff_digests(
            kind=kinds.REPORT_OVERDUE_DIGEST, today=today,
            template="reminders/email/overdue_digest", rows=rows,
            reason=_("Daily digest of overdue annual reports for Code staff."),
            extra_context={"today": today.isoformat(), "total": len(obligations),
                           "total_by_country": dict(Counter(ob.country for ob in obligations)),
                           "list_url": absolute("staff-signatory-list"), "optional": True}))
    return claimed + digest


def _overdue_row(ob: Obligation, today: date, section: str) -> dict:
    return {"section": section, "company": ob.name, "country": ob.country,
            "country_code": ob.country, "year": ob.year, "due_on": ob.due_on.isoformat(),
            "days_over": (today - ob.due_on).days,
            "url": absolute("staff-signatory-detail", ob.signatory_id)}


# --- training refreshers -----------------------------------------------------------------------

@transaction.atomic
def scan_training_refreshers(today: date | None = None) -> list[int]:
    """Records expiring within 30 days and not renewed → one e-mail per company (per language)
    to its admins, listing the people; each record is listed once (``RefresherNotice``)."""
    from code_portal.reminders.models import RefresherNotice
    from training.coverage import refreshers_due

    today = today or scan_date()
    kind = kinds.TRAINING_REFRESHER
    config = reminder_settings()[kind]
    if not config.enabled:
        return []
    window = max(config.offsets)
    records = list(
        refreshers_due(today, within_days=window)
        .filter(signatory__status__in=CHASED)
        .exclude(Exists(RefresherNotice.objects.filter(record=OuterRef("pk"))))
        .order_by("signatory_id", "expires_on", "trainee__name", "id")
        .values_list("id", "signatory_id", "signatory__legal_name", "signatory__trading_name",
                     "trainee__name", "trainee__staff_reference", "course__title", "expires_on"))
    per_company: dict[int, list[tuple]] = defaultdict(list)
    for row in records:
        per_company[row[1]].append(row)
    people = company_people(per_company, [MembershipRole.ADMIN])
    drafts = []
    for sig, rows in per_company.items():
        company = rows[0][3] or rows[0][2]
        listed = [{"name": name or ref or _("(name erased)"), "course": course,
                   # the last valid day: expires_on is the first day it no longer counts
                   "expires_on": (expires - timedelta(days=1)).isoformat()}
                  for _id, _s, _l, _t, name, ref, course, expires in rows]
        for language, emails in sorted(by_language(people.get(sig, []), optional=True).items()):
            with override(language):
                reason = _("Training of %(n)s people expires within %(days)s days.") % {
                    "n": len(rows), "days": window}
            drafts.append(Draft(
                kind=kind, key=f"{kind}:{sig}:{today.isoformat()}:{language}", signatory_id=sig,
                recipients=emails, template="reminders/email/training_refresher",
                language=language, reason=reason,
                extra={"records": [r[0] for r in rows]},
                context={"company": company, "people": listed, "window": window,
                         "url": absolute("training-home", sig), "optional": True}))
    records_of = {d.key: d.extra["records"] for d in drafts}
    won = notifications_claim_keys(drafts)
    RefresherNotice.objects.bulk_create(
        [RefresherNotice(record_id=r, notification_id=pk)
         for key, pk in won.items() for r in records_of[key]],
        ignore_conflicts=True, batch_size=1000)
    return list(won.values())


# --- applications waiting for staff ------------------------------------------------------------

@transaction.atomic
def scan_applications_waiting(today: date | None = None) -> list[int]:
    """Applications waiting for a decision for more than 5 days → a daily digest to staff."""
    today = today or scan_date()
    kind = kinds.APPLICATIONS_WAITING
    config = reminder_settings()[kind]
    if not config.enabled:
        return []
    threshold = min(config.offsets)
    limit = datetime.combine(today - timedelta(days=threshold), datetime.min.time(), tzinfo=UTC)
    waiting = list(Signatory.objects.filter(status=S.APPLIED, applied_at__lt=limit)
                   .order_by("applied_at", "id")
                   .values_list("id", "legal_name", "country", "applied_at"))
    rows = [{"section": "waiting", "company": name, "country": str(country),
             "country_code": str(country), "applied_on": applied.date().isoformat(),
             "days": (today - applied.date()).days,
             "url": absolute("staff-signatory-detail", pk)}
            for pk, name, country, applied in waiting]
    if not rows:
        return []
    return notifications_claim(_staff_digests(
        kind=kind, today=today, template="reminders/email/applications_waiting", rows=rows,
        reason=_("Daily digest of applications waiting for Code staff."),
        extra_context={"today": today.isoformat(), "threshold": threshold,
                       "queue_url": absolute("staff-queue"), "optional": True,
                       "total": len(rows)}))

