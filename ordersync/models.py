"""Records that make "exactly once" possible: synced orders, attempts, ship notices and sync runs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from connections.models import Store


class OrderState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    IMPORTED = "imported", _("Imported")
    REJECTED = "rejected", _("Rejected")
    HELD = "held", _("Waiting for a status mapping")
    CANCELLED = "cancelled", _("Cancelled")
    LOCKED = "locked", _("Locked in ShipStation")
    FAILED = "failed", _("Failed")


class Lifecycle(models.TextChoices):
    """Where the order is in its life after the import (docs/decisions.md, "One lifecycle per order")."""

    NOT_SENT = "", _("Not in ShipStation")
    IMPORTED = "imported", _("Imported")
    ON_HOLD = "on_hold", _("On hold in ShipStation")
    SHIPPED = "shipped", _("Shipped")
    NOTIFIED = "notified", _("Order Time notified")
    CANCELLED = "cancelled", _("Cancelled in ShipStation")
    SPLIT = "split", _("Split in ShipStation")
    MERGED = "merged", _("Merged in ShipStation")
    DELETED = "deleted", _("Deleted in ShipStation")


class SyncedOrder(models.Model):
    """One Order Time ship doc and the one ShipStation order it becomes."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="synced_orders")
    ordertime_order_id = models.CharField(_("Order Time OrderID"), max_length=50)
    order_number = models.CharField(_("order number"), max_length=200, db_index=True)
    order_key = models.CharField(_("orderKey"), max_length=120, unique=True)
    shipstation_order_id = models.BigIntegerField(_("ShipStation orderId"), null=True, blank=True, db_index=True)
    state = models.CharField(_("state"), max_length=12, choices=OrderState.choices, default=OrderState.PENDING, db_index=True)
    ordertime_status = models.CharField(_("Order Time status"), max_length=100, blank=True)
    shipstation_status = models.CharField(_("ShipStation status"), max_length=20, blank=True)
    lifecycle = models.CharField(_("lifecycle"), max_length=10, choices=Lifecycle.choices, default=Lifecycle.NOT_SENT,
                                 blank=True, db_index=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    carrier_code = models.CharField(_("carrier"), max_length=50, blank=True)
    shipped_at = models.DateTimeField(_("label created"), null=True, blank=True)
    last_modified = models.DateTimeField(_("Order Time LastModified"), null=True, blank=True)
    buyer_email = models.CharField(_("buyer e-mail"), max_length=200, blank=True)
    buyer_name = models.CharField(_("buyer"), max_length=200, blank=True)
    skus = models.TextField(_("SKUs"), blank=True, help_text=_("Space-separated, for search."))

    source = models.JSONField(_("ship doc as exported"), default=dict, blank=True)
    payload = models.JSONField(_("payload last sent"), null=True, blank=True)
    payload_hash = models.CharField(_("hash of the payload last sent"), max_length=64, blank=True)
    # The base of the next update's three-way merge: Order Time's own mapping, before any merge.
    base_mapping = models.JSONField(_("Order Time's mapping last sent"), null=True, blank=True)
    rejection_reasons = models.JSONField(_("rejection reasons"), default=list, blank=True)
    normalisations = models.JSONField(_("address normalisations"), default=list, blank=True)
    flags = models.JSONField(_("flags for a person"), default=list, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    needs_attention = models.BooleanField(_("needs attention"), default=False, db_index=True)
    handled_at = models.DateTimeField(_("marked as handled"), null=True, blank=True)

    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    imported_at = models.DateTimeField(_("last imported"), null=True, blank=True)

    class Meta:
        verbose_name = _("synced order")
        verbose_name_plural = _("synced orders")
        ordering = ["-updated_at"]
        # Re-sending writes over whatever ShipStation holds now; it is granted apart from retry and handled.
        permissions = [("resend_syncedorder", _("Can re-send orders to ShipStation"))]
        constraints = [
            models.UniqueConstraint(fields=["store", "ordertime_order_id"], name="one_synced_order_per_ship_doc"),
        ]
        indexes = [models.Index(fields=["store", "state"])]

    def __str__(self) -> str:
        return f"{self.store} #{self.order_number}"


class AttemptKind(models.TextChoices):
    CREATE_ORDERS = "createorders", _("Sent to ShipStation")
    SHIP_NOTICE = "shipnotify", _("Ship notice to Order Time")
    EMAIL = "email", _("Shipment e-mail")
    VALIDATION = "validation", _("Validation")


class Attempt(models.Model):
    """One call that touched an order: when, what was sent, what came back (Saleor's delivery attempt)."""

    synced_order = models.ForeignKey(SyncedOrder, on_delete=models.CASCADE, related_name="attempts")
    sync_run = models.ForeignKey("SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts")
    notice = models.ForeignKey("ShipmentNotice", null=True, blank=True, on_delete=models.CASCADE, related_name="attempts")
    kind = models.CharField(max_length=12, choices=AttemptKind.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    success = models.BooleanField(default=False)
    request = models.JSONField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {'ok' if self.success else 'failed'} at {self.at:%Y-%m-%d %H:%M:%S}"


class NoticeSource(models.TextChoices):
    SHIPMENT = "shipment", _("Label")
    FULFILLMENT = "fulfillment", _("Marked shipped")


class NoticeState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    DELAYED = "delayed", _("Delayed")
    HELD = "held", _("Held for release")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Retrying")
    SKIPPED_VOID = "skipped_void", _("Skipped: label voided")
    SKIPPED_RETURN = "skipped_return", _("Skipped: return label")
    FLAGGED = "flagged", _("Voided after Order Time was told")
    UNMATCHED = "unmatched", _("No matching order")


class EmailState(models.TextChoices):
    """The buyer e-mail of one notice: an outbox entry sent once, after the notice's outcome is committed."""

    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent")


class ShipmentNotice(models.Model):
    """One ShipStation label (or fulfillment) and the one ship notice Order Time gets for it.

    Written before the call (``sending``) and after it (``sent``), so a crash in between is visible
    and the notice is re-sent identically rather than skipped or doubled.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="notices")
    synced_order = models.ForeignKey(SyncedOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="notices")
    source = models.CharField(max_length=12, choices=NoticeSource.choices, default=NoticeSource.SHIPMENT)
    external_id = models.BigIntegerField(_("shipmentId / fulfillmentId"))
    shipstation_order_id = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=NoticeState.choices, default=NoticeState.PENDING, db_index=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    carrier_code = models.CharField(max_length=50, blank=True)
    service_code = models.CharField(max_length=100, blank=True)
    label_created_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    shipment = models.JSONField(_("label as read from ShipStation"), default=dict, blank=True)
    payload = models.JSONField(_("notice sent"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    needs_attention = models.BooleanField(default=False, db_index=True)
    # "" until the notice is built; then decided once, with the rendered message when one goes out.
    email_state = models.CharField(max_length=10, blank=True, choices=EmailState.choices)
    email_message = models.JSONField(_("e-mail to send"), null=True, blank=True)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ship notice")
        verbose_name_plural = _("ship notices")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "source", "external_id"], name="one_notice_per_label"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.external_id} ({self.state})"


class RunKind(models.TextChoices):
    IMPORT = "import", _("Import")
    UPDATE = "update", _("Shipment update")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTIAL = "partial", _("Finished with errors")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (already running)")


class SyncRun(models.Model):
    """One cycle for one store: when, what, counts, duration, errors, and the cursor it moved."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=10, choices=RunKind.choices)
    trigger = models.CharField(max_length=20, default="schedule")  # schedule, command, admin, webhook
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    cursor_before = models.DateTimeField(null=True, blank=True)
    cursor_after = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    api_calls = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # An import cycle reads a bounded number of orders; the next cycle goes on with the same window.
    more_to_read = models.BooleanField(_("more pages follow"), default=False)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.store} {self.kind} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
