"""Who may read the notification log (django-rules). The object is the signatory."""

import rules

from signatories.permissions import is_code_staff, is_company_member, is_staff_admin, staff_for

# A company's own log: every member; staff in scope (local representatives: their countries).
rules.add_perm("reminders.view_notifications", is_company_member | staff_for)
# The staff log across signatories (rows are scoped by the selector).
rules.add_perm("reminders.view_all_notifications", is_code_staff)
# Reminder settings (offsets, on/off) in the Django admin.
rules.add_perm("reminders.manage_settings", is_staff_admin)
