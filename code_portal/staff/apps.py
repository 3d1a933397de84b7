from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    name = "code_portal.staff"
    label = "staff"
    verbose_name = _("Staff workspace")

    def ready(self) -> None:
        # register the django-rules predicates
        from code_portal.staff import permissions  # noqa: F401
