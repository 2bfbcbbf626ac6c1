"""Accounts, stores and their settings: what a merchant connects and configures."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedTextField

DEFAULT_ORDERTIME_URL = "https://services.ordertime.com/api/shipstation"
DEFAULT_SHIPSTATION_URL = "https://ssapi.shipstation.com"


class ShipStationStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    AWAITING_SHIPMENT = "awaiting_shipment", _("Awaiting shipment")
    SHIPPED = "shipped", _("Shipped")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")


# Order Time's own instructions for ShipStation's Custom Store status fields.
DEFAULT_STATUS_MAPPINGS = {
    "payment pending": ShipStationStatus.AWAITING_PAYMENT,
    "processing": ShipStationStatus.ON_HOLD,
    "shipped": ShipStationStatus.SHIPPED,
    "voided": ShipStationStatus.CANCELLED,
}


class HealthState(models.TextChoices):
    UNKNOWN = "unknown", _("Not checked yet")
    OK = "ok", _("Connected")
    FAILED = "failed", _("Failing")


class OrderTimeAccount(models.Model):
    username = models.CharField(_("master-admin username"), max_length=200, help_text=_("The Order Time Master Admin login (usually an e-mail address)."))
    api_key = EncryptedTextField(_("shipping integration API key"), help_text=_("Admin › General › Shipping Integration › Activate, in Order Time."))
    endpoint_url = models.URLField(_("endpoint URL"), default=DEFAULT_ORDERTIME_URL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Order Time account")
        verbose_name_plural = _("Order Time accounts")

    def __str__(self) -> str:
        return f"{self.username} @ {self.endpoint_url}"


class ShipStationAccount(models.Model):
    api_key = EncryptedTextField(_("API key"))
    api_secret = EncryptedTextField(_("API secret"))
    base_url = models.URLField(_("base URL"), default=DEFAULT_SHIPSTATION_URL)
    label = models.CharField(_("label"), max_length=100, blank=True, help_text=_("A name to tell accounts apart; the key itself is never shown."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ShipStation account")
        verbose_name_plural = _("ShipStation accounts")

    def __str__(self) -> str:
        return self.label or f"ShipStation account #{self.pk} @ {self.base_url}"

    @property
    def limiter_key(self) -> str:
        """Identifies the key pair for the shared rate limiter without revealing it."""
        import hashlib

        return hashlib.sha256(f"{self.base_url}|{self.api_key}".encode()).hexdigest()[:16]


def _new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


order_key_prefix_validator = RegexValidator(r"^[a-z0-9][a-z0-9_-]{0,40}$", _("Lower-case letters, digits, - and _ only."))


class Store(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    ordertime_account = models.ForeignKey(OrderTimeAccount, on_delete=models.PROTECT, related_name="stores", verbose_name=_("Order Time account"))
    shipstation_account = models.ForeignKey(ShipStationAccount, on_delete=models.PROTECT, related_name="stores", verbose_name=_("ShipStation account"))
    shipstation_store_id = models.BigIntegerField(_("ShipStation store id"))
    active = models.BooleanField(_("active"), default=True)
    order_key_prefix = models.CharField(
        _("order-key prefix"), max_length=41, unique=True, validators=[order_key_prefix_validator],
        help_text=_('Fixed when the store is created: every orderKey is "ordertime-" + this prefix + "-" + the Order Time OrderID.'),
    )
    initial_lookback_days = models.PositiveIntegerField(_("initial import look-back (days)"), default=7)
    import_interval_minutes = models.PositiveIntegerField(_("import every (minutes)"), default=5)
    update_interval_minutes = models.PositiveIntegerField(_("check shipments every (minutes)"), default=5)

    # Cursors: moved only over work that is durably recorded.
    import_cursor = models.DateTimeField(_("imported up to"), null=True, blank=True)
    shipment_cursor = models.DateTimeField(_("labels read up to"), null=True, blank=True)
    void_cursor = models.DateTimeField(_("voids read up to"), null=True, blank=True)
    fulfillment_cursor = models.DateTimeField(_("fulfillments read up to"), null=True, blank=True)
    last_import_at = models.DateTimeField(_("last import"), null=True, blank=True)
    last_update_at = models.DateTimeField(_("last shipment update"), null=True, blank=True)
    last_deep_update_at = models.DateTimeField(_("last shipment update with the deep overlap"), null=True, blank=True)
    # The export walk a bounded import cycle left unfinished: window, pages read so far, when it began
    # and whether every send so far went through. Null when no walk is in progress.
    import_walk = models.JSONField(_("import walk in progress"), null=True, blank=True, editable=False)

    # Connection health, written by the connection check and by every sync.
    ordertime_health = models.CharField(max_length=10, choices=HealthState.choices, default=HealthState.UNKNOWN)
    ordertime_health_message = models.CharField(max_length=500, blank=True)
    shipstation_health = models.CharField(max_length=10, choices=HealthState.choices, default=HealthState.UNKNOWN)
    shipstation_health_message = models.CharField(max_length=500, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)

    webhook_secret = EncryptedTextField(default=_new_webhook_secret, editable=False)
    webhook_id = models.BigIntegerField(_("ShipStation webhook id"), null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def healthy(self) -> bool:
        return self.ordertime_health == HealthState.OK and self.shipstation_health == HealthState.OK


class StatusMapping(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="status_mappings")
    ordertime_status = models.CharField(_("Order Time status"), max_length=50)
    shipstation_status = models.CharField(_("ShipStation status"), max_length=20, choices=ShipStationStatus.choices)

    class Meta:
        verbose_name = _("status mapping")
        verbose_name_plural = _("status mappings")
        ordering = ["ordertime_status"]
        constraints = [
            models.UniqueConstraint(Lower("ordertime_status"), "store", name="unique_status_per_store_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.ordertime_status} → {self.shipstation_status}"


class WeightUnit(models.TextChoices):
    POUNDS = "pounds", _("Pounds")
    OUNCES = "ounces", _("Ounces")
    GRAMS = "grams", _("Grams")


class NoticeTiming(models.TextChoices):
    IMMEDIATELY = "immediately", _("When the label is created")
    DELAYED = "delayed", _("After a delay")
    MANUAL = "manual", _("Only when released by hand")


class NotesSource(models.TextChoices):
    CUSTOM_FIELD1 = "customField1", _("Custom field 1")
    CUSTOM_FIELD2 = "customField2", _("Custom field 2")
    CUSTOM_FIELD3 = "customField3", _("Custom field 3")
    NONE = "none", _("None")


colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour like #1f6feb."))


class StoreSettings(models.Model):
    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="settings")

    # Branding
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    logo_url = models.URLField(_("logo URL"), blank=True)
    accent_color = models.CharField(_("accent colour"), max_length=7, default="#1f6feb", validators=[colour_validator])
    support_email = models.EmailField(_("support e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)

    # Notifications
    email_buyer = models.BooleanField(_("e-mail the buyer a shipment confirmation"), default=False)
    include_tracking_link = models.BooleanField(_("include the tracking link"), default=True)
    bcc_email = models.EmailField(_("BCC address"), blank=True)
    ordertime_notifies_buyer = models.BooleanField(
        _("Order Time notifies the buyer"), default=False,
        help_text=_("Sets NotifyCustomer in the ship notice. Ignored when Ordersync already e-mailed the buyer."),
    )
    notice_timing = models.CharField(_("tell Order Time"), max_length=12, choices=NoticeTiming.choices, default=NoticeTiming.IMMEDIATELY)
    notice_delay_hours = models.PositiveIntegerField(_("delay (hours)"), default=2)
    notes_to_buyer_source = models.CharField(_("notes to the buyer come from"), max_length=12, choices=NotesSource.choices, default=NotesSource.CUSTOM_FIELD3)
    carrier_overrides = models.JSONField(
        _("carrier name overrides"), default=dict, blank=True,
        help_text=_('ShipStation carrier code → Order Time carrier name, e.g. {"globegistics": "Globegistics"}.'),
    )

    # Product handling
    import_images = models.BooleanField(_("import item images"), default=True)
    weight_unit = models.CharField(_("order weight unit"), max_length=10, choices=WeightUnit.choices, default=WeightUnit.OUNCES)
    import_options = models.BooleanField(_("import item options"), default=True)
    import_locations = models.BooleanField(_("import warehouse locations"), default=True)
    normalize_addresses = models.BooleanField(
        _("normalise addresses"), default=False,
        help_text=_('Turn full state and country names into codes ("California" → "CA") instead of rejecting the order.'),
    )
    shipping_method_mapping = models.JSONField(
        _("shipping method mapping"), default=dict, blank=True,
        help_text=_('Order Time ShippingMethod → {"carrierCode": ..., "serviceCode": ...}.'),
    )

    class Meta:
        verbose_name = _("store settings")
        verbose_name_plural = _("store settings")

    def __str__(self) -> str:
        return f"Settings of {self.store}"

    @property
    def brand_name(self) -> str:
        return self.display_name or self.store.name


class AuditLogEntry(models.Model):
    """Who changed which store, mapping or setting, and how (Zulip's RealmAuditLog, in small)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_log")
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=100)
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"
