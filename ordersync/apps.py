from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersyncConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ordersync"
    verbose_name = _("Synchronisation")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
