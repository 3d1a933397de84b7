from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "signatories.partners"
    label = "partners"
    verbose_name = _("Hotel partners")

    def ready(self) -> None:
        from signatories.partners import permissions  # noqa: F401 (registers the rules)
