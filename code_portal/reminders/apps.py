from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    name = "code_portal.reminders"
    label = "reminders"
    verbose_name = _("Reminders")

    def ready(self) -> None:
        # register the django-rules predicates
        from code_portal.reminders import permissions  # noqa: F401
