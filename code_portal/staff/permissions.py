"""Who may use the staff workspace (issue 8). Local representatives see only their countries:
every figure, list and export starts from ``signatories.selectors.signatory_scope_q``."""

import rules

from signatories.permissions import is_code_staff

# dashboard, charts, annual summary PDF
rules.add_perm("staff.view_dashboard", is_code_staff)
# the audit trail (read-only for everyone, staff admins included)
rules.add_perm("staff.view_audit_trail", is_code_staff)
# exports of staff lists
rules.add_perm("staff.export", is_code_staff)
# annual summary report for the board (all countries)
rules.add_perm("staff.view_annual_summary", is_code_staff)
