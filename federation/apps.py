from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FederationConfig(AppConfig):
    name = "federation"
    verbose_name = _("省级汇总上报")
    default_auto_field = "django.db.models.BigAutoField"
