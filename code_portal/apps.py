from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodePortalConfig(AppConfig):
    name = "code_portal"
    verbose_name = _("Code Portal")
