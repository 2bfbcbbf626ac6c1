from django.urls import path

from .webhooks import shipstation_webhook

app_name = "shipments"

urlpatterns = [
    path("shipstation/<int:store_id>/", shipstation_webhook, name="shipstation_webhook"),
]
