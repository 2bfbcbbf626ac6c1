"""URLs of the admin's own pages, mounted at ``admin/ordersync/`` and behind the admin login."""

from django.contrib import admin
from django.urls import path

from . import admin_views as views

app_name = "ordersync_admin"


def _admin(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("dashboard/", _admin(views.dashboard), name="dashboard"),
    path("dashboard/progress.json", _admin(views.runs_progress), name="runs_progress"),
    path("stores/<int:store_id>/sync/<str:kind>/", _admin(views.sync_now), name="sync_now"),
    path("stores/<int:store_id>/status-mappings/", _admin(views.status_mapping_editor), name="status_mappings"),
    path("stores/<int:store_id>/email-preview/", _admin(views.email_preview), name="email_preview"),
    path("stores/<int:store_id>/webhook/<str:action>/", _admin(views.webhook_subscription), name="webhook"),
    path("orders/<int:order_id>/packing-slip/", _admin(views.packing_slips), name="packing_slip"),
    path("orders/packing-slips/", _admin(views.packing_slips), name="packing_slips"),
    path("orders/pick-list/", _admin(views.pick_list), name="pick_list"),
]
