"""End to end in a real browser: a reporter fills the annual report with evidence and submits;
a reviewer requests changes with a comment; the reporter sees the comment, fixes the report and
resubmits; the reviewer approves.

Same browser set-up as the signatory lifecycle test: the system Chromium only (never a downloaded
build), pytest-django's live server, fields found by their labels and groups by their legends.
Answers are saved by htmx as the reporter moves between fields; the test waits for each of those
saves so that it never races the page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from code_portal.models import AuditEvent
from reporting.models import CriterionReview, Evidence, Report, ReportStatus
from tests.factories import PASSWORD
from tests.signatories.test_browser_lifecycle import (  # noqa: F401 (fixtures)
    CHROMIUM,
    chromium,
    log_in,
    log_out,
    page_in_chromium,
)

pytestmark = [
    pytest.mark.browser,
    # serialized_rollback: keeps the default questionnaire that a data migration installs.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]

COMPANY = "Nordic Tours AB"
POLICY_QUESTION = "Does your company have a written policy against the sexual exploitation"


def make_pdf(path: Path, text: str) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.drawString(72, 760, text)
    pdf.save()
    return path


def autosaved(page: Page, action) -> None:
    """Do something that changes an answer and wait until htmx has saved it."""
    with page.expect_response(lambda r: "/autosave/" in r.url and r.status == 200):
        action()


def choose(page: Page, group: str, option: str) -> None:
    autosaved(page, lambda: page.get_by_role("group", name=re.compile(re.escape(group)))
              .get_by_label(option, exact=True).check())


def type_answer(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(re.compile(re.escape(label)))

    def fill_and_leave():
        field.fill(text)
        field.press("Tab")

    autosaved(page, fill_and_leave)


def open_report_as_company(page: Page) -> None:
    page.get_by_role("link", name="Open the annual reports").click()
    page.get_by_role("link", name=re.compile(r"^\d{4} report$")).click()


def open_report_as_reviewer(page: Page) -> None:
    page.get_by_role("link", name="Reports to review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports to review")
    page.get_by_role("link", name=COMPANY).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Review: {COMPANY}")


def test_reporter_submits_reviewer_requests_changes_reporter_resubmits_reviewer_approves(
        request, live_server, reporter, staff_reviewer, tmp_path):
    page = request.getfixturevalue("page_in_chromium")
    base = live_server.url
    policy_pdf = make_pdf(tmp_path / "policy.pdf", "Child protection policy (draft)")
    signed_pdf = make_pdf(tmp_path / "signed-policy.pdf", "Child protection policy, signed")

    # 1. The reporter starts this year's report from the company's page.
    log_in(page, base, reporter.email, PASSWORD)
    page.get_by_role("link", name="Open the annual reports").click()
    page.get_by_role("button", name=re.compile(r"Start the \d{4} report")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Annual report")
    expect(page.get_by_text(re.compile(r"The \d{4} report has been started"))).to_be_visible()

    # The policy file question appears only once the policy question is answered "Yes".
    attach_policy = page.get_by_role("group", name=re.compile("Attach the policy"))
    expect(attach_policy).to_be_hidden()
    choose(page, POLICY_QUESTION, "Yes")
    expect(attach_policy).to_be_visible()
    expect(attach_policy).to_contain_text("up to 20 MB each")
    attach_policy.get_by_label("Attach a file").set_input_files(str(policy_pdf))

    type_answer(page, "Describe the procedure staff follow", "Report to the duty manager, who "
                "calls the police and the local ECPAT hotline.")
    type_answer(page, "How many customer-facing employees were trained", "14")
    choose(page, "How was the training delivered?", "E-learning")
    choose(page, "Do your supplier contracts include the Code clause?", "No")
    choose(page, "Do you inform travellers", "No")
    type_answer(page, "Which activities with stakeholders", "Joint workshop with ECPAT Sweden.")
    choose(page, "Do you publish information on your Code activities?", "No")

    # Submitting with an answer missing lists it, with a link to the question.
    page.get_by_role("button", name="Submit the report").click()
    summary = page.get_by_role("alert").filter(has_text="The report cannot be submitted yet")
    expect(summary).to_be_visible()
    missing = summary.get_by_role("link", name=re.compile("What are your priorities"))
    expect(missing).to_have_attribute("href", "#q-reporting-next-steps")
    expect(summary.get_by_role("link")).to_have_count(1)
    # The file chosen before was attached by that same request.
    expect(attach_policy.get_by_role("link", name="policy.pdf")).to_be_visible()
    missing.click()
    next_steps = page.get_by_label(re.compile("What are your priorities for next year"))
    expect(next_steps).to_be_in_viewport()
    type_answer(page, "What are your priorities for next year", "Train the new guides.")

    page.get_by_role("button", name="Submit the report").click()
    expect(page.get_by_text("Your report has been submitted to the Code staff")).to_be_visible()
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)
    expect(page.get_by_text("Train the new guides.")).to_be_visible()
    log_out(page, reporter.email)

    # 2. The reviewer finds it in the queue and requests changes on criterion 1.
    log_in(page, base, staff_reviewer.email, PASSWORD)
    open_report_as_reviewer(page)
    expect(page.get_by_role("row", name=re.compile(POLICY_QUESTION))).to_contain_text("Yes")
    expect(page.get_by_role("link", name="policy.pdf")).to_be_visible()
    page.get_by_role("group", name="Score for 1. Policy").get_by_label("Partly met",
                                                                       exact=True).check()
    page.get_by_label("Comment on 1. Policy").fill("Please attach the signed policy, not the "
                                                   "draft.")
    page.get_by_role("button", name="Request changes").click()
    expect(page.get_by_text("Changes have been requested")).to_be_visible()
    log_out(page, staff_reviewer.email)

    # 3. The reporter sees the comment next to the criterion, replaces the file and resubmits.
    log_in(page, base, reporter.email, PASSWORD)
    open_report_as_company(page)
    expect(page.get_by_text("The Code staff have asked for changes.")).to_be_visible()
    policy_section = page.get_by_role("region", name=re.compile("Criterion 1: Policy"))
    comment = policy_section.get_by_role("complementary", name="Comment from the Code staff")
    expect(comment).to_contain_text("Please attach the signed policy, not the draft.")
    expect(comment).to_contain_text("Partly met")
    page.get_by_role("button", name="Remove policy.pdf").click()
    expect(page.get_by_text("The file “policy.pdf” has been removed.")).to_be_visible()
    attach_policy.get_by_label("Attach a file").set_input_files(str(signed_pdf))
    page.get_by_role("button", name="Submit the report").click()
    expect(page.get_by_text("Your report has been submitted to the Code staff")).to_be_visible()
    expect(page.get_by_role("link", name="signed-policy.pdf")).to_be_visible()
    log_out(page, reporter.email)

    # 4. The reviewer sees the second round with the earlier comment, and approves.
    log_in(page, base, staff_reviewer.email, PASSWORD)
    open_report_as_reviewer(page)
    policy_review = page.get_by_role("region", name=re.compile("Criterion 1: Policy"))
    expect(policy_review.get_by_text("Please attach the signed policy, not the draft.")) \
        .to_be_visible()
    # and the history keeps it with the request for changes
    expect(page.get_by_role("table", name="History of the report")
           .get_by_text("Criterion 1: Please attach the signed policy")).to_be_visible()
    expect(page.get_by_role("link", name="signed-policy.pdf")).to_be_visible()
    expect(page.get_by_role("link", name="policy.pdf", exact=True)).to_have_count(0)
    page.get_by_role("group", name="Score for 1. Policy").get_by_label("Met",
                                                                       exact=True).check()
    page.get_by_label("Overall score").select_option(label="Met")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("The report has been approved.")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    report = Report.objects.get(signatory__legal_name=COMPANY)
    assert report.status == ReportStatus.APPROVED
    assert (report.submission_count, report.overall_score) == (2, "met")
    assert list(Evidence.objects.filter(report=report).values_list("original_name", flat=True)) \
        == ["signed-policy.pdf"]
    first_round = CriterionReview.objects.get(report=report, round=1, criterion=1)
    assert (first_round.score, first_round.reviewer) == ("partly", staff_reviewer)
    assert CriterionReview.objects.get(report=report, round=2, criterion=1).score == "met"
    transitions = list(AuditEvent.objects.filter(object_id=str(report.pk),
                                                 action__in=["report.submit",
                                                             "report.request_changes",
                                                             "report.approve"])
                       .order_by("occurred_at", "id").values_list("action", "actor__email"))
    assert transitions == [("report.submit", reporter.email),
                           ("report.request_changes", staff_reviewer.email),
                           ("report.submit", reporter.email),
                           ("report.approve", staff_reviewer.email)]
