"""Builders for certificate tests: an approved report of company A, approved through the service
so the on-commit task issues the certificate."""

from __future__ import annotations

from reporting import services
from reporting.models import Certificate, ReportStatus
from tests.reporting.factories import ReportFactory


def approve(report, staff, django_capture_on_commit_callbacks) -> Certificate:
    with django_capture_on_commit_callbacks(execute=True):
        services.report_approve(actor=staff, report=report, overall_score="met")
    return Certificate.objects.get(report=report, replaces__isnull=True)


def submitted_report(signatory, year: int = 2030):
    return ReportFactory(signatory=signatory, year=year, status=ReportStatus.SUBMITTED)
