from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Ordersync")
admin.site.site_title = _("Ordersync")
admin.site.index_title = _("Control room")

urlpatterns = [
    path("admin/ordersync/", include("ordersync.admin_urls")),  # admin pages of our own, behind the admin login
    path("admin/", admin.site.urls),
    path("hooks/", include("ordersync.shipments.urls")),
]
