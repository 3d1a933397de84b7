"""Who may do what with annual reports (django-rules). The object is the report's signatory."""

import rules

from signatories.permissions import (
    is_central_staff,
    is_company_member,
    is_company_reporter,
    staff_for,
)

rules.add_perm("reporting.view_report", is_company_member | staff_for)
rules.add_perm("reporting.edit_report", is_company_reporter)
rules.add_perm("reporting.submit_report", is_company_reporter)
rules.add_perm("reporting.review_report", staff_for)  # scores and comments
rules.add_perm("reporting.decide_report", is_central_staff)  # request changes, approve, reject
rules.add_perm("reporting.assign_report", is_central_staff)
rules.add_perm("reporting.set_due_date", is_central_staff)
rules.add_perm("reporting.view_queue", staff_for)
# certificates: who reads them is the signatory scope (selectors); central staff revoke,
# re-issue and regenerate.
rules.add_perm("reporting.manage_certificates", is_central_staff)
