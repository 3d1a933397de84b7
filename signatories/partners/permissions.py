"""Who may do what with partners and confirmations (django-rules), in one place.

The object is the operator signatory (the company whose partner list it is), or for
``respond_requests`` the hotel signatory the requests are addressed to.
"""

from __future__ import annotations

import rules

from signatories.permissions import (
    is_central_staff,
    is_code_staff,
    is_company_member,
    is_company_reporter,
    staff_for,
)

rules.add_perm("partners.view_partners", is_company_member | staff_for)
rules.add_perm("partners.manage_partners", is_company_reporter)
rules.add_perm("partners.send_requests", is_company_reporter)
rules.add_perm("partners.import_partners", is_company_reporter)
rules.add_perm("partners.export_partners", is_company_member | staff_for)
# a hotel that is itself a signatory: its members see the requests addressed to it, and its
# admins and reporters answer them
rules.add_perm("partners.view_addressed_requests", is_company_member)
rules.add_perm("partners.respond_requests", is_company_reporter)
# Code staff: rates across signatories (a local representative: of their countries)
rules.add_perm("partners.view_rates", is_code_staff)
rules.add_perm("partners.audit_confirmation", staff_for)
rules.add_perm("partners.manage_guidelines", is_central_staff)
