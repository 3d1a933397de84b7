"""Time and query count of the review queue and of a report page at scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/reporting.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/reporting.py \
        --signatories 10000 --reports 30000          # a quick run

The database is topped up to ``--signatories`` signatories (``manage.py seed_scale``) and
``--reports`` annual reports (bulk, below: the latest year for every signatory first, then the
year before, …; statuses spread like a real cycle, a fifth of the open ones assigned to one of
five reviewers). ``--answered`` reports get an answer to every question, so the answers table is
not empty. One report, of a company the bench's reporter belongs to, gets a 50-question
questionnaire version, an answer to each, 30 files and last year's report beside it: that is the
report page measured.

Each scenario is requested through the Django test client: one warm-up request, then
``--repeat`` measured ones. Printed: median and best wall time, SQL time, the number of queries
and the HTTP status. It prints figures and asserts nothing. ``--fresh`` first deletes every
report (and the bench's questionnaire versions).

Use a database of its own: it writes hundreds of thousands of rows.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "code_portal.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402
from django.utils import timezone  # noqa: E402

from code_portal.models import StaffRole, User  # noqa: E402
from reporting import services  # noqa: E402
from reporting.models import (  # noqa: E402
    Answer,
    CriterionReview,
    Evidence,
    Question,
    Questionnaire,
    QuestionType,
    Report,
    ReportStatus,
)
from signatories.models import Membership, MembershipRole, Signatory, SignatoryStatus  # noqa: E402

R = ReportStatus
YEARS = [2025, 2024, 2023, 2022, 2021]
# The open year: most reports still drafts, a queue of submitted ones, some decided.
LATEST_WEIGHTS = {R.DRAFT: 45, R.SUBMITTED: 15, R.UNDER_REVIEW: 10, R.CHANGES_REQUESTED: 10,
                  R.APPROVED: 18, R.REJECTED: 2}
OLDER_WEIGHTS = {R.APPROVED: 88, R.REJECTED: 4, R.CHANGES_REQUESTED: 3, R.DRAFT: 5}
BENCH_TITLE = "Bench questionnaire (50 questions)"


def personas() -> dict[str, User]:
    reviewers = []
    for i in range(5):
        user, _ = User.objects.get_or_create(
            email=f"bench-reviewer{i}@example.org",
            defaults={"staff_role": StaffRole.REVIEWER, "is_staff": True,
                      "full_name": f"Bench Reviewer {i}"})
        reviewers.append(user)
    rep, _ = User.objects.get_or_create(
        email="bench-lcr@example.org",
        defaults={"staff_role": StaffRole.LOCAL_REP, "staff_countries": ["SE", "TH"],
                  "full_name": "Bench Local Rep"})
    reporter, _ = User.objects.get_or_create(email="bench-reporter@example.org",
                                             defaults={"full_name": "Bench Reporter"})
    return {"staff": reviewers[0], "local_rep": rep, "reporter": reporter,
            **{f"reviewer{i}": u for i, u in enumerate(reviewers)}}


def top_up_signatories(size: int) -> int:
    have = Signatory.objects.count()
    if have < size:
        print(f"  seeding {size - have} signatories …", flush=True)
        call_command("seed_scale", signatories=size - have, seed=size, batch_size=5000)
    return Signatory.objects.count()


def _new_report(signatory_id: int, member_since: date | None, year: int, questionnaire_id: int,
                reviewers: list[int], now: datetime) -> Report:
    rnd = random.Random(signatory_id * 10_000 + year)
    weights = LATEST_WEIGHTS if year == YEARS[0] else OLDER_WEIGHTS
    status = rnd.choices(list(weights), weights=list(weights.values()))[0]
    start = member_since or date(year, 3, 31)
    try:
        due_on = start.replace(year=year + 1)
    except ValueError:
        due_on = start.replace(year=year + 1, day=28)
    report = Report(signatory_id=signatory_id, year=year, questionnaire_id=questionnaire_id,
                    due_on=due_on, version=rnd.randint(1, 40))
    report.__dict__["status"] = status  # protected FSM field: set before the first save
    if status != R.DRAFT:
        report.submission_count = 2 if status == R.CHANGES_REQUESTED and rnd.random() < .3 else 1
        report.submitted_at = now - timedelta(days=rnd.randint(1, 150),
                                              minutes=rnd.randint(0, 1440))
    if status in (R.UNDER_REVIEW, R.APPROVED, R.REJECTED, R.CHANGES_REQUESTED) or (
            status == R.SUBMITTED and rnd.random() < .2):
        report.reviewer_id = rnd.choice(reviewers)
    if status in (R.APPROVED, R.REJECTED):
        report.decided_at = report.submitted_at + timedelta(days=rnd.randint(1, 30))
        report.overall_score = rnd.choice(["met", "partly"])
    return report


def top_up_reports(target: int, questionnaire: Questionnaire, reviewers: list[int],
                   batch: int = 5000) -> int:
    have = Report.objects.count()
    if have >= target:
        return have
    print(f"  seeding {target - have} reports …", flush=True)
    started = time.perf_counter()
    signatories = list(Signatory.objects.order_by("id").values_list("id", "member_since"))
    now = timezone.now()
    # Latest year for every signatory first, then the year before, …; existing pairs are
    # skipped by the unique constraint, so a re-run tops up without duplicates.
    plan = ((sid, since, year) for year in YEARS for sid, since in signatories)
    pending: list[Report] = []
    for planned, (sid, since, year) in enumerate(plan):
        if planned >= target:
            break
        pending.append(_new_report(sid, since, year, questionnaire.pk, reviewers, now))
        if len(pending) >= batch:
            Report.objects.bulk_create(pending, ignore_conflicts=True)
            pending = []
    if pending:
        Report.objects.bulk_create(pending, ignore_conflicts=True)
    print(f"  … in {time.perf_counter() - started:.1f} s", flush=True)
    return Report.objects.count()


def sample_value(question: Question, n: int):
    t = QuestionType
    return {
        t.YES_NO: n % 3 != 0,
        t.SINGLE: (question.choices or [{"value": "x"}])[0]["value"],
        t.MULTIPLE: [c["value"] for c in (question.choices or [])[:2]],
        t.NUMBER: n % 500,
        t.PERCENTAGE: n % 101,
        t.SHORT_TEXT: f"Answer {n}",
        t.LONG_TEXT: f"A longer answer number {n}. " * 8,
        t.DATE: "2025-03-01",
    }.get(question.type)


def top_up_answers(count: int, questionnaire: Questionnaire, batch: int = 20000) -> None:
    questions = [q for q in Question.objects.filter(section__questionnaire=questionnaire)
                 if q.type != QuestionType.FILE]
    have = Answer.objects.values("report_id").distinct().count()
    if have >= count:
        return
    print(f"  seeding answers for {count - have} reports …", flush=True)
    ids = (Report.objects.filter(questionnaire=questionnaire).exclude(answers__isnull=False)
           .order_by("id").values_list("id", flat=True)[:count - have])
    pending = []
    for n, report_id in enumerate(ids.iterator()):
        pending.extend(Answer(report_id=report_id, question=q, value=sample_value(q, n))
                       for q in questions)
        if len(pending) >= batch:
            Answer.objects.bulk_create(pending, ignore_conflicts=True)
            pending = []
    Answer.objects.bulk_create(pending, ignore_conflicts=True)


@transaction.atomic
def measured_report(default: Questionnaire, reporter: User, reviewer: User) -> Report:
    """A report with 50 questions, all answered, 30 files, reviews, and last year's report."""
    signatory = (Signatory.objects.filter(status=SignatoryStatus.ACTIVE, country="SE")
                 .order_by("id").first())
    Membership.objects.get_or_create(user=reporter, signatory=signatory,
                                     defaults={"role": MembershipRole.REPORTER})
    questionnaire = Questionnaire.objects.filter(title=BENCH_TITLE).first()
    if questionnaire is None:
        questionnaire = services.questionnaire_copy(actor=None, questionnaire=default)
        questionnaire.title = BENCH_TITLE
        questionnaire.save()
        section = questionnaire.sections.get(criterion=5)
        have = Question.objects.filter(section__questionnaire=questionnaire).count()
        Question.objects.bulk_create([
            Question(section=section, code=f"bench-{i}", text=f"Bench question {i}?",
                     type=QuestionType.LONG_TEXT, required=False, allows_evidence=True,
                     order=100 + i) for i in range(50 - have)])
    questions = list(Question.objects.filter(section__questionnaire=questionnaire))
    with_files = [q for q in questions if q.type == QuestionType.FILE or q.allows_evidence]
    for year in (YEARS[0], YEARS[0] - 1):
        report = Report.objects.filter(signatory=signatory, year=year).first()
        if report is None:  # a run with fewer reports than two per signatory
            report = _new_report(signatory.pk, signatory.member_since, year, questionnaire.pk,
                                 [reviewer.pk], timezone.now())
            report.save()
        Report.objects.filter(pk=report.pk).update(
            questionnaire=questionnaire,
            status=R.UNDER_REVIEW if year == YEARS[0] else R.APPROVED,
            submission_count=1, submitted_at=timezone.now() - timedelta(days=3),
            reviewer=reviewer)
        Answer.objects.filter(report=report).delete()
        Evidence.objects.filter(report=report).delete()
        Answer.objects.bulk_create([Answer(report=report, question=q, value=sample_value(q, i),
                                           updated_by=reporter)
                                    for i, q in enumerate(questions) if q.type != "file"])
        # Rows only: the page lists files, it never opens them.
        Evidence.objects.bulk_create([
            Evidence(report=report, question=with_files[i % len(with_files)],
                     file=f"reports/{signatory.pk}/{report.pk}/evidence-{i}.pdf",
                     original_name=f"evidence-{i}.pdf", content_type="application/pdf",
                     size=120_000 + i, sha256=f"{i:064x}", uploaded_by=reporter)
            for i in range(30)])
        CriterionReview.objects.filter(report=report).delete()
        CriterionReview.objects.bulk_create([
            CriterionReview(report=report, round=1, criterion=c, score="partly",
                            comment=f"Comment on criterion {c}", reviewer=reviewer)
            for c in range(1, 7)])
    return Report.objects.get(signatory=signatory, year=YEARS[0])


def deep_page(rows: int, wanted: int, page_size: int = 25) -> int:
    """``wanted``, or the last page when a smaller run has fewer (a page past the end is a 404)."""
    return max(1, min(wanted, -(-rows // page_size)))


def scenarios(report: Report, reviewer: User, *, queue: int, reports: int
              ) -> list[tuple[str, str, str]]:
    sid = report.signatory_id
    queue_page, list_page = deep_page(queue, 100), deep_page(reports, 1000)
    return [
        ("queue page", "staff", "/staff/reports/"),
        ("queue page, filtered", "staff",
         "/staff/reports/?country=SE&country=TH&type=tour_operator&year=2025"),
        ("queue page, unassigned", "staff", "/staff/reports/?reviewer=null"),
        (f"queue page, page {queue_page}", "staff", f"/staff/reports/?page={queue_page}"),
        ("queue page, local rep (SE, TH)", "local_rep", "/staff/reports/"),
        ("API queue", "staff", "/api/v1/reports/queue/"),
        ("API queue, filtered", "staff",
         f"/api/v1/reports/queue/?country=TH&type=hotel&reviewer={reviewer.pk}"),
        ("API list, all statuses", "staff", "/api/v1/reports/"),
        (f"API list, all statuses, page {list_page}", "staff",
         f"/api/v1/reports/?page={list_page}"),
        ("API list, approved 2024 in SE", "staff",
         "/api/v1/reports/?status=approved&year=2024&country=SE"),
        ("review page (staff)", "staff", f"/staff/reports/{report.pk}/"),
        ("report page (company)", "reporter", f"/reports/{report.pk}/"),
        ("company's report list", "reporter", f"/company/{sid}/reports/"),
        ("API report (staff)", "staff", f"/api/v1/reports/{report.pk}/"),
        ("API report (company)", "reporter", f"/api/v1/reports/{report.pk}/"),
    ]


def measure(client: Client, url: str, repeat: int) -> dict:
    client.get(url)  # warm-up: connection, templates, query plans
    walls, sqls, counts, status = [], [], [], None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            walls.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        counts.append(len(ctx.captured_queries))
        sqls.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    return {"median": statistics.median(walls), "best": min(walls),
            "sql": statistics.median(sqls), "queries": max(counts), "status": status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatories", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=300_000)
    parser.add_argument("--answered", type=int, default=20_000,
                        help="How many reports get an answer to every question.")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fresh", action="store_true",
                        help="Delete every report and the bench questionnaire first.")
    args = parser.parse_args()

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    if args.fresh:
        Report.objects.all().delete()
        Questionnaire.objects.filter(title=BENCH_TITLE).delete()
    users = personas()
    default = Questionnaire.objects.get(year=2025, version=1)
    total_signatories = top_up_signatories(args.signatories)
    reviewer_ids = [users[f"reviewer{i}"].pk for i in range(5)]
    total_reports = top_up_reports(args.reports, default, reviewer_ids)
    top_up_answers(args.answered, default)
    report = measured_report(default, users["reporter"], users["staff"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    clients = {}
    for key in ("staff", "local_rep", "reporter"):
        clients[key] = Client()
        clients[key].force_login(users[key])

    queue = Report.objects.filter(status__in=[R.SUBMITTED, R.UNDER_REVIEW]).count()
    print(f"\n{total_signatories} signatories, {total_reports} reports ({queue} in the queue), "
          f"{Answer.objects.count()} answers; report page: "
          f"{Question.objects.filter(section__questionnaire=report.questionnaire).count()} "
          f"questions, {report.evidence.count()} files")
    header = (f"{'scenario':<36} {'median ms':>9} {'best ms':>8} {'SQL ms':>7} {'queries':>7} "
              f"{'HTTP':>4}")
    print(header)
    print("-" * len(header))
    for label, persona, url in scenarios(report, users["reviewer1"], queue=queue,
                                         reports=Report.objects.count()):
        try:
            resolve(url.split("?")[0])
        except Resolver404:
            print(f"{label:<36} (no such page)")
            continue
        r = measure(clients[persona], url, args.repeat)
        print(f"{label:<36} {r['median']:>9.1f} {r['best']:>8.1f} {r['sql']:>7.1f} "
              f"{r['queries']:>7} {r['status']:>4}", flush=True)


if __name__ == "__main__":
    main()
