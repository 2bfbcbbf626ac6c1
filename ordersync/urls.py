from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/ordersync/", include("ordersync.admin_urls")),  # admin pages of our own, behind the admin login
    path("admin/", admin.site.urls),
    path("hooks/", include("ordersync.shipments.urls")),
]
