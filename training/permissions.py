"""Who may do what with training (django-rules). Object = the signatory the data belongs to."""

import rules

from signatories.permissions import (
    is_central_staff,
    is_company_admin,
    is_company_member,
    is_company_reporter,
    staff_for,
)

rules.add_perm("training.view", is_company_member | staff_for)
rules.add_perm("training.edit", is_company_reporter)
rules.add_perm("training.erase_person", is_company_admin)
rules.add_perm("training.manage_catalogue", is_central_staff)
rules.add_perm("training.export", is_company_member | staff_for)
