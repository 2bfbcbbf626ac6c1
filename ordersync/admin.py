"""Admin for the sync domain: every order's story, ship notices, sync runs and the audit log.

Actions are thin: each calls one service (imported where used, so the admin loads on its own).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from connections.models import AuditLogEntry

from .admin_views import ORDERTIME_APP_URL, order_document, redirect_back, rejection_explanations
from .models import OrderState, ShipmentNotice, SyncedOrder, SyncRun

ATTENTION_STATES = (OrderState.REJECTED, OrderState.FAILED, OrderState.LOCKED)


def titled(filter_class, title):
    """A stock list filter under our own (translated) title: some model fields carry no verbose name."""
    return type(f"Titled{filter_class.__name__}", (filter_class,), {"__init__": _titled_init(filter_class, title)})


def _titled_init(filter_class, title):
    def __init__(self, *args, **kwargs):
        filter_class.__init__(self, *args, **kwargs)
        self.title = title

    return __init__


def badge(value: str, label) -> str:
    return format_html('<span class="badge badge-{}">{}</span>', value, label)


def run_each(model_admin, request, objects, call) -> int:
    """Call a service for each object; one failure is reported and does not stop the others."""
    done = 0
    for obj in objects:
        try:
            call(obj)
        except Exception as exc:  # noqa: BLE001 - shown to the merchant, the others still run
            model_admin.message_user(request, f"{obj}: {exc}", messages.ERROR)
        else:
            done += 1
    return done


def action_allowed(model_admin, request, action) -> bool:
    """What Django checks before it lists an action, for the buttons that run one action on one object."""
    return all(getattr(model_admin, f"has_{permission}_permission")(request)
               for permission in getattr(action, "allowed_permissions", ()))


def _report(model_admin, request, done: int, message: str) -> None:
    if done:
        model_admin.message_user(request, message % {"count": done}, messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is written by services only; the admin shows it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", _("Needs attention")), ("no", _("All fine"))]

    def queryset(self, request, queryset):
        needing = Q(needs_attention=True, handled_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(needing)
        if self.value() == "no":
            return queryset.exclude(needing)
        return queryset


@admin.register(SyncedOrder)
class SyncedOrderAdmin(admin.ModelAdmin):
    change_form_template = "admin/ordersync/syncedorder/change_form.html"
    change_list_template = "admin/ordersync/syncedorder/change_list.html"
    # The fix button sits next to the state, where the eye is, before columns that may scroll off.
    list_display = ["order_number", "state_badge", "row_actions", "lifecycle_badge", "tracking_number", "store",
                    "buyer_name", "ordertime_status", "seen"]
    list_display_links = ["order_number"]
    list_filter = [
        ("store", admin.RelatedFieldListFilter), "state", "lifecycle", NeedsAttentionFilter,
        ("first_seen_at", titled(admin.DateFieldListFilter, _("first seen"))),
    ]
    list_select_related = ["store"]
    search_fields = ["order_number", "buyer_name", "buyer_email", "skus", "tracking_number"]
    search_help_text = _("Order number, buyer name or e-mail, SKU, or tracking number.")
    actions = ["retry", "resend", "mark_handled", "print_packing_slips", "print_pick_list"]
    fieldsets = [
        (None, {"fields": ["store", "order_number", "state_badge", "lifecycle_badge", "ordertime_status",
                           "shipstation_status", "tracking_number", "carrier_code", "shipped_at",
                           "buyer_name", "buyer_email", "attention", "last_error"]}),
        (_("Identifiers"), {"classes": ["collapse"], "fields": [
            "ordertime_order_id", "order_key", "shipstation_order_id", "last_modified", "imported_at", "handled_at",
        ]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def get_list_display(self, request):
        if self.has_change_permission(request):
            return self.list_display
        return [name for name in self.list_display if name != "row_actions"]  # its button would answer 403

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, order: SyncedOrder) -> str:
        return badge(order.state, order.get_state_display())

    @admin.display(description=_("in ShipStation"), ordering="lifecycle")
    def lifecycle_badge(self, order: SyncedOrder) -> str:
        return badge(order.lifecycle or "not_sent", order.get_lifecycle_display())

    @admin.display(description=_("first seen"), ordering="first_seen_at")
    def seen(self, order: SyncedOrder):
        return order.first_seen_at

    @admin.display(description=_("needs attention"), boolean=True, ordering="needs_attention")
    def attention(self, order: SyncedOrder) -> bool:
        return order.needs_attention and order.handled_at is None

    @admin.display(description=_("fix"))
    def row_actions(self, order: SyncedOrder) -> str:
        if not self.attention(order):
            return ""
        # Inside the change list's form: formaction posts that form (and its CSRF token) to the retry URL.
        return format_html('<button type="submit" class="button" formaction="{}" name="_retry_one">{}</button>',
                           reverse("admin:ordersync_syncedorder_retry", args=[order.pk]), gettext("Retry"))

    # --- The story of one order -------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False, "show_delete": False}
        if order is not None:
            extra.update(order_story_context(order))
            extra.update(may_change=self.has_change_permission(request, order), may_resend=self.has_resend_permission(request))
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    # --- Actions: list (selection) and buttons (one order) -----------------------------------------

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.resend_{self.opts.model_name}")

    @admin.action(description=_("Retry the selected orders"), permissions=["change"])
    def retry(self, request, queryset):
        from .imports.actions import synced_order_retry

        done = run_each(self, request, queryset, lambda order: synced_order_retry(synced_order=order, actor=request.user))
        _report(self, request, done, ngettext("%(count)d order retried.", "%(count)d orders retried.", done))

    @admin.action(description=_("Re-send the selected orders to ShipStation"), permissions=["resend"])
    def resend(self, request, queryset):
        from .imports.actions import synced_order_resend

        done = run_each(self, request, queryset, lambda order: synced_order_resend(synced_order=order, actor=request.user))
        _report(self, request, done, ngettext("%(count)d order re-sent.", "%(count)d orders re-sent.", done))

    @admin.action(description=_("Mark the selected orders as handled"), permissions=["change"])
    def mark_handled(self, request, queryset):
        from .imports.actions import synced_order_mark_handled

        done = run_each(self, request, queryset, lambda order: synced_order_mark_handled(synced_order=order, actor=request.user))
        _report(self, request, done, ngettext("%(count)d order marked as handled.", "%(count)d orders marked as handled.", done))

    @admin.action(description=_("Print packing slips"), permissions=["view"])
    def print_packing_slips(self, request, queryset):
        return HttpResponseRedirect(_selection_url("ordersync_admin:packing_slips", queryset))

    @admin.action(description=_("Print a pick list"), permissions=["view"])
    def print_pick_list(self, request, queryset):
        return HttpResponseRedirect(_selection_url("ordersync_admin:pick_list", queryset))

    def _one_order_view(self, action_name):
        def view(request, object_id):
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            order = get_object_or_404(SyncedOrder, pk=object_id)
            action = getattr(self, action_name)
            if not action_allowed(self, request, action):
                raise PermissionDenied
            action(request, SyncedOrder.objects.filter(pk=order.pk))
            return redirect_back(request, reverse("admin:ordersync_syncedorder_change", args=[order.pk]))

        return self.admin_site.admin_view(view)

    def get_urls(self):
        return [
            path("<path:object_id>/retry/", self._one_order_view("retry"), name="ordersync_syncedorder_retry"),
            path("<path:object_id>/resend/", self._one_order_view("resend"), name="ordersync_syncedorder_resend"),
            path("<path:object_id>/handled/", self._one_order_view("mark_handled"), name="ordersync_syncedorder_handled"),
        ] + super().get_urls()


def _selection_url(url_name: str, queryset) -> str:
    ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
    return f"{reverse(url_name)}?{urlencode({'ids': ids})}"


def order_story_context(order: SyncedOrder) -> dict:
    """Everything the order page tells beyond its fields: the order as sent, notices, attempts, reasons."""
    return {
        "order_doc": order_document(order),
        "reasons": rejection_explanations(order),
        "attempts": list(order.attempts.select_related("notice").order_by("at", "pk")),
        "notices": list(order.notices.order_by("created_at")),
        "held": order.state == OrderState.HELD,
        "ordertime_app_url": ORDERTIME_APP_URL,
    }


# --- Ship notices ----------------------------------------------------------------------------------


@admin.register(ShipmentNotice)
class ShipmentNoticeAdmin(admin.ModelAdmin):
    change_form_template = "admin/ordersync/shipmentnotice/change_form.html"
    list_display = ["label", "store", "order_link", "state_badge", "due", "tracking", "sent", "attempts_made"]
    list_filter = [
        ("store", admin.RelatedFieldListFilter),
        ("state", titled(admin.ChoicesFieldListFilter, _("state"))),
        ("source", titled(admin.ChoicesFieldListFilter, _("source"))),
        ("needs_attention", titled(admin.BooleanFieldListFilter, _("needs attention"))),
    ]
    list_select_related = ["store", "synced_order"]
    search_fields = ["tracking_number", "synced_order__order_number", "external_id"]
    search_help_text = _("Tracking number, order number or ShipStation shipment id.")
    actions = ["release", "retry"]
    readonly_fields = fields = ["label", "store", "order_link", "state_badge", "due", "tracking", "carrier_service",
                                "sent", "attempts_made", "last_error", "email_state", "email_error"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("label"), ordering="external_id")
    def label(self, notice: ShipmentNotice) -> str:
        return f"{notice.get_source_display()} {notice.external_id}"

    @admin.display(description=_("order"))
    def order_link(self, notice: ShipmentNotice) -> str:
        if notice.synced_order is None:
            return "—"
        return format_html('<a href="{}">#{}</a>', reverse("admin:ordersync_syncedorder_change", args=[notice.synced_order_id]),
                           notice.synced_order.order_number)

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, notice: ShipmentNotice) -> str:
        return badge(notice.state, notice.get_state_display())

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, notice: ShipmentNotice):
        return notice.due_at

    @admin.display(description=_("tracking number"), ordering="tracking_number")
    def tracking(self, notice: ShipmentNotice) -> str:
        return notice.tracking_number

    @admin.display(description=_("carrier and service"))
    def carrier_service(self, notice: ShipmentNotice) -> str:
        return " / ".join(part for part in (notice.carrier_code, notice.service_code) if part)

    @admin.display(description=_("sent"), ordering="sent_at")
    def sent(self, notice: ShipmentNotice):
        return notice.sent_at

    @admin.display(description=_("attempts"), ordering="attempt_count")
    def attempts_made(self, notice: ShipmentNotice) -> int:
        return notice.attempt_count

    def change_view(self, request, object_id, form_url="", extra_context=None):
        notice = self.get_object(request, object_id)
        extra = {"attempts": list(notice.attempts.order_by("at", "pk")) if notice else []}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    @admin.action(description=_("Release the selected notices to Order Time now"), permissions=["change"])
    def release(self, request, queryset):
        from .shipments.services import notice_release

        done = run_each(self, request, queryset, lambda notice: notice_release(notice=notice, actor=request.user))
        _report(self, request, done, ngettext("%(count)d notice released.", "%(count)d notices released.", done))

    @admin.action(description=_("Retry the selected notices"), permissions=["change"])
    def retry(self, request, queryset):
        from .shipments.services import notice_retry

        done = run_each(self, request, queryset, lambda notice: notice_retry(notice=notice, actor=request.user))
        _report(self, request, done, ngettext("%(count)d notice retried.", "%(count)d notices retried.", done))


# --- History ---------------------------------------------------------------------------------------


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["when", "store", "what", "trigger_name", "status_badge", "counts_summary", "duration", "error_count"]
    list_filter = [
        ("store", admin.RelatedFieldListFilter),
        ("kind", titled(admin.ChoicesFieldListFilter, _("what"))),
        ("status", titled(admin.ChoicesFieldListFilter, _("status"))),
    ]
    list_select_related = ["store"]
    fields = readonly_fields = ["when", "store", "what", "trigger_name", "status_badge", "window", "counts_table",
                                "calls", "duration", "errors_list"]

    @admin.display(description=_("when"), ordering="started_at")
    def when(self, run: SyncRun):
        return run.started_at

    @admin.display(description=_("what"), ordering="kind")
    def what(self, run: SyncRun) -> str:
        return run.get_kind_display()

    @admin.display(description=_("triggered by"), ordering="trigger")
    def trigger_name(self, run: SyncRun) -> str:
        return TRIGGER_LABELS.get(run.trigger, run.trigger)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, run: SyncRun) -> str:
        return badge(run.status, run.get_status_display())

    @admin.display(description=_("counts"))
    def counts_summary(self, run: SyncRun) -> str:
        return ", ".join(f"{name}: {value}" for name, value in sorted((run.counts or {}).items()) if value)

    @admin.display(description=_("window"))
    def window(self, run: SyncRun) -> str:
        if not run.window_start:
            return "—"
        window = (f"{run.window_start:%Y-%m-%d %H:%M} → {run.window_end:%Y-%m-%d %H:%M}" if run.window_end
                  else str(run.window_start))
        # A bounded import cycle that stopped mid-window: the next cycle goes on with the same window.
        return f"{window} ({gettext('more pages follow in the next cycle')})" if run.more_to_read else window

    @admin.display(description=_("counts"))
    def counts_table(self, run: SyncRun) -> str:
        return render_to_string("ordersync/_key_values.html", {"rows": sorted((run.counts or {}).items())})

    @admin.display(description=_("API calls"))
    def calls(self, run: SyncRun) -> int:
        return run.api_calls

    @admin.display(description=_("duration"))
    def duration(self, run: SyncRun) -> str:
        seconds = run.duration_seconds
        return "—" if seconds is None else gettext("%(seconds).1f s") % {"seconds": seconds}

    @admin.display(description=_("errors"))
    def error_count(self, run: SyncRun) -> int:
        return len(run.errors or [])

    @admin.display(description=_("errors"))
    def errors_list(self, run: SyncRun) -> str:
        return render_to_string("ordersync/_errors.html", {"errors": run.errors or []})


def change_lines(changes: dict) -> list[tuple[str, str]]:
    """Audit changes as (what, how) pairs: field-level {"before", "after"} dicts, or a flat before/after."""
    if "before" in changes or "after" in changes:
        subject = ", ".join(str(v) for k, v in changes.items() if k not in ("before", "after"))
        return [(subject, f"{_shown(changes.get('before'))} → {_shown(changes.get('after'))}")]
    lines = []
    for name, change in changes.items():
        if isinstance(change, dict) and {"before", "after"} <= change.keys():
            lines.append((name, f"{_shown(change['before'])} → {_shown(change['after'])}"))
        else:
            lines.append((name, _shown(change)))
    return lines


def _shown(value) -> str:
    return "—" if value in (None, "") else str(value)


TRIGGER_LABELS = {
    "schedule": _("schedule"), "command": _("command line"), "admin": _("admin"), "webhook": _("webhook"),
}


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["when", "actor_name", "store", "action_name", "object_repr", "changes_summary"]
    list_filter = [("store", admin.RelatedFieldListFilter)]
    list_select_related = ["actor", "store"]
    search_fields = ["object_repr", "action"]
    fields = readonly_fields = ["when", "actor_name", "store", "action_name", "object_type", "object_repr", "changes_table"]

    @admin.display(description=_("when"), ordering="at")
    def when(self, entry: AuditLogEntry):
        return entry.at

    @admin.display(description=_("who"))
    def actor_name(self, entry: AuditLogEntry) -> str:
        return entry.actor.get_username() if entry.actor else gettext("system or command line")

    @admin.display(description=_("action"), ordering="action")
    def action_name(self, entry: AuditLogEntry) -> str:
        return entry.action.replace("_", " ")

    @admin.display(description=_("what changed"))
    def changes_summary(self, entry: AuditLogEntry) -> str:
        return render_to_string("ordersync/_changes.html", {"lines": change_lines(entry.changes or {})})

    @admin.display(description=_("what changed"))
    def changes_table(self, entry: AuditLogEntry) -> str:
        return self.changes_summary(entry)
