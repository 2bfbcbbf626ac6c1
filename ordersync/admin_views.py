"""Admin pages beyond the model admins: dashboard, sync now, status mapping editor, e-mail preview,
webhook buttons, packing slips and pick lists. Views are thin: they read through selectors and write
through services (imported where used, so this module loads before every service exists).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from connections.models import ShipStationStatus, Store, StoreSettings

from .models import RunKind, SyncedOrder
from .selectors_dashboard import held_count, latest_runs, status_rows, store_health_list

# Order Time has no documented deep link to a ship doc; its web app is where a merchant edits one.
ORDERTIME_APP_URL = "https://app.ordertime.com/"


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def redirect_back(request, default: str) -> HttpResponseRedirect:
    """Back to ``next`` or the referring page when it is on this site, else to ``default``: never off-site."""
    for target in (request.POST.get("next"), request.GET.get("next"), request.META.get("HTTP_REFERER")):
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                      require_https=request.is_secure()):
            return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


def _page(request, template: str, title: str, **context) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), "title": title, **context})


# --- Dashboard ------------------------------------------------------------------------------------


def dashboard(request):
    _require(request, "connections.view_store")
    return _page(request, "ordersync/dashboard.html", gettext("Stores at a glance"), rows=store_health_list())


@require_POST
def sync_now(request, store_id: int, kind: str):
    """Queue an import or a shipment update for one store; the dashboard polls its progress."""
    _require(request, "connections.change_store")
    store = get_object_or_404(Store, pk=store_id)
    from . import tasks

    task_name = {RunKind.IMPORT: "import_store_orders", RunKind.UPDATE: "update_store_shipments"}.get(kind)
    if task_name is None:
        raise Http404
    task = getattr(tasks, task_name)
    # After commit, so a worker never starts before the request's writes are visible.
    transaction.on_commit(lambda: task.delay(store.pk, "admin"))
    text = gettext("Import queued for %(store)s.") if kind == RunKind.IMPORT else gettext("Shipment update queued for %(store)s.")
    messages.success(request, text % {"store": store.name})
    return redirect_back(request, reverse("ordersync_admin:dashboard"))


def runs_progress(request):
    """The latest run of each kind per store, as JSON for the dashboard's progress poll."""
    _require(request, "connections.view_store")
    ids = [int(pk) for pk in request.GET.get("stores", "").split(",") if pk.isdigit()]
    payload = {}
    for store_id, runs in latest_runs(store_ids=ids).items():
        payload[str(store_id)] = {
            kind: None if run is None else {
                "id": run.pk, "status": run.status, "label": run.get_status_display(),
                "started_at": run.started_at.isoformat(), "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "counts": run.counts,
            }
            for kind, run in runs.items()
        }
    return JsonResponse({"stores": payload})


# --- Status mapping editor ------------------------------------------------------------------------


class StatusMappingEditorForm(forms.Form):
    """One select per Order Time status; ``rows`` come from ``status_rows``."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        choices = [("", _("— not mapped: orders wait —"))] + list(ShipStationStatus.choices)
        for index, row in enumerate(rows):
            self.fields[f"status_{index}"] = forms.ChoiceField(
                label=row.ordertime_status, choices=choices, required=False, initial=row.mapped_to or "",
            )

    def rows_with_fields(self):
        return [(row, self[f"status_{index}"]) for index, row in enumerate(self.rows)]

    def changed_mappings(self) -> list[tuple[str, str]]:
        """(Order Time status, ShipStation status) for every select set to a new target."""
        return [
            (row.ordertime_status, self.cleaned_data[f"status_{index}"])
            for index, row in enumerate(self.rows)
            if self.cleaned_data[f"status_{index}"] and self.cleaned_data[f"status_{index}"] != row.mapped_to
        ]


class AddStatusForm(forms.Form):
    ordertime_status = forms.CharField(label=_("Order Time status"), max_length=50, required=False)
    shipstation_status = forms.ChoiceField(label=_("ShipStation status"), choices=[("", "—"), *ShipStationStatus.choices], required=False)


def status_mapping_editor(request, store_id: int):
    _require(request, "connections.change_statusmapping")
    store = get_object_or_404(Store, pk=store_id)
    rows = status_rows(store=store)
    form = StatusMappingEditorForm(request.POST or None, rows=rows)
    add_form = AddStatusForm(request.POST or None, prefix="new")
    if request.method == "POST" and form.is_valid() and add_form.is_valid():
        wanted = form.changed_mappings()
        if add_form.cleaned_data["ordertime_status"].strip() and add_form.cleaned_data["shipstation_status"]:
            wanted.append((add_form.cleaned_data["ordertime_status"].strip(), add_form.cleaned_data["shipstation_status"]))
        released = _save_mappings(request, store, wanted)
        if wanted:
            messages.success(request, ngettext(
                "%(mappings)d mapping saved; %(released)d held orders released.",
                "%(mappings)d mappings saved; %(released)d held orders released.", len(wanted),
            ) % {"mappings": len(wanted), "released": released})
        else:
            messages.info(request, gettext("Nothing changed."))
        return HttpResponseRedirect(request.path)
    return _page(request, "ordersync/status_mapping_editor.html",
                 gettext("Status mappings of %(store)s") % {"store": store.name},
                 store=store, form=form, add_form=add_form)


def _save_mappings(request, store: Store, wanted: list[tuple[str, str]]) -> int:
    """Save each mapping through the service (which releases held orders) and count what it released."""
    from connections.services import status_mapping_set

    released = 0
    for ordertime_status, shipstation_status in wanted:
        waiting = held_count(store=store, ordertime_status=ordertime_status)
        status_mapping_set(store=store, ordertime_status=ordertime_status, shipstation_status=shipstation_status,
                           actor=request.user)
        released += waiting
    return released


# --- Store settings: live e-mail preview and webhook buttons ---------------------------------------


class BrandingPreviewForm(forms.ModelForm):
    """The store page's unsaved branding fields (inline prefix ``settings-0``), for the preview only."""

    class Meta:
        model = StoreSettings
        fields = ["display_name", "logo_url", "accent_color", "support_email", "website", "phone", "include_tracking_link"]


@require_POST
def email_preview(request, store_id: int):
    """Subject and HTML of the shipment e-mail with the branding as typed (not saved)."""
    _require(request, "connections.view_store")
    store = get_object_or_404(Store.objects.select_related("settings"), pk=store_id)
    from .emails import shipment_email_preview

    draft = StoreSettings.objects.get(pk=store.settings.pk)
    form = BrandingPreviewForm(request.POST, instance=draft, prefix="settings-0")
    if not form.is_valid():
        # Model validators run after the value is copied onto the instance: put the saved one back.
        for name in form.errors:
            if name in form.fields:
                setattr(draft, name, getattr(store.settings, name))
    store.settings = draft
    subject, _text, html = shipment_email_preview(store=store)
    return JsonResponse({"subject": subject, "html": html, "errors": {name: list(e) for name, e in form.errors.items()}})


WEBHOOK_ACTIONS = {
    "subscribe": ("store_webhook_subscribe", _("ShipStation will now tell us about new labels at once.")),
    "unsubscribe": ("store_webhook_unsubscribe", _("Webhook removed; shipments are still picked up by the regular check.")),
    "rotate": ("store_webhook_secret_rotate", _("New webhook secret saved; the old one no longer works.")),
}


@require_POST
def webhook_subscription(request, store_id: int, action: str):
    _require(request, "connections.change_store")
    store = get_object_or_404(Store, pk=store_id)
    if action not in WEBHOOK_ACTIONS:
        raise Http404
    from .shipments import subscriptions

    service_name, done = WEBHOOK_ACTIONS[action]
    try:
        getattr(subscriptions, service_name)(store=store, actor=request.user)
    except Exception as exc:  # noqa: BLE001 - the merchant sees why ShipStation said no
        messages.error(request, gettext("ShipStation did not accept the change: %(error)s") % {"error": exc})
    else:
        messages.success(request, str(done))
    return HttpResponseRedirect(reverse("admin:connections_store_change", args=[store.pk]))


# --- The order as ShipStation received it -----------------------------------------------------------


@dataclass
class OrderDocument:
    """A sent payload, arranged for people: the order page, packing slips and pick lists read this."""

    payload: dict
    items: list[dict] = field(default_factory=list)
    adjustments: list[dict] = field(default_factory=list)
    notes_to_buyer: str = ""

    @property
    def pretty_json(self) -> str:
        return json.dumps(self.payload, indent=2, sort_keys=True, ensure_ascii=False)

    def __getattr__(self, name):
        # Templates read payload keys directly: doc.shipTo, doc.giftMessage, ...
        try:
            return self.payload[name]
        except KeyError:
            raise AttributeError(name) from None


def order_document(order: SyncedOrder) -> OrderDocument | None:
    if not order.payload:
        return None
    payload = order.payload
    items = payload.get("items") or []
    notes_source = getattr(getattr(order.store, "settings", None), "notes_to_buyer_source", "customField3")
    return OrderDocument(
        payload=payload,
        items=[item for item in items if not item.get("adjustment")],
        adjustments=[item for item in items if item.get("adjustment")],
        notes_to_buyer=(payload.get("advancedOptions") or {}).get(notes_source, "") or "",
    )


# --- Rejections in plain words ----------------------------------------------------------------------

FIX_HINTS = [
    ("Customer/ShipTo/", _("Correct the ship-to address of this ship doc in Order Time.")),
    ("Customer/BillTo/", _("Correct the customer's billing details in Order Time.")),
    ("Customer/", _("Correct the customer on this ship doc in Order Time.")),
    ("Items", _("Correct the item lines of this ship doc in Order Time (quantity, name, weight, image).")),
    ("", _("Correct this field of the ship doc in Order Time.")),
]


@dataclass(frozen=True)
class Explanation:
    text: str
    field: str
    hint: str


def rejection_explanations(order: SyncedOrder) -> list[Explanation]:
    """Each stored reason as a sentence plus what to change in Order Time."""
    from .mapping.imports import Reason

    explanations = []
    for reason in order.rejection_reasons or []:
        if isinstance(reason, dict):
            path = reason.get("field", "")
            text = str(Reason(path, reason.get("value", ""), reason.get("message", ""))) if "message" in reason else str(reason)
        else:
            path, text = "", str(reason)
        hint = next(str(hint) for prefix, hint in FIX_HINTS if path.startswith(prefix))
        explanations.append(Explanation(text=text, field=path, hint=hint))
    return explanations


# --- Packing slips and pick lists ---------------------------------------------------------------------


def _selected_orders(request) -> list[SyncedOrder]:
    ids = [int(pk) for pk in request.GET.get("ids", "").split(",") if pk.strip().isdigit()]
    orders = SyncedOrder.objects.filter(pk__in=ids).select_related("store", "store__settings").order_by("store__name", "order_number")
    return list(orders)


def packing_slips(request, order_id: int | None = None):
    _require(request, "ordersync.view_syncedorder")
    orders = [get_object_or_404(SyncedOrder.objects.select_related("store", "store__settings"), pk=order_id)] \
        if order_id is not None else _selected_orders(request)
    slips = [(order, order_document(order)) for order in orders]
    return TemplateResponse(request, "ordersync/packing_slip.html", {"slips": slips, "title": gettext("Packing slips")})


@dataclass
class PickLine:
    location: str
    sku: str
    name: str
    image_url: str
    options: list[dict]
    quantity: int = 0
    orders: list[str] = field(default_factory=list)


def pick_lines(orders: list[SyncedOrder]) -> list[PickLine]:
    """One line per location, SKU and options across the selection, sorted by warehouse location."""
    lines: dict[tuple, PickLine] = {}
    for order in orders:
        doc = order_document(order)
        for item in doc.items if doc else []:
            options = item.get("options") or []
            key = (item.get("warehouseLocation") or "", item.get("sku") or "", json.dumps(options, sort_keys=True))
            line = lines.setdefault(key, PickLine(location=key[0], sku=key[1], name=item.get("name") or "",
                                                  image_url=item.get("imageUrl") or "", options=options))
            line.quantity += int(item.get("quantity") or 0)
            if order.order_number not in line.orders:
                line.orders.append(order.order_number)
    # Lines without a location go last: they are the ones a picker has to look for.
    return sorted(lines.values(), key=lambda line: (not line.location, line.location.casefold(), line.sku))


def pick_list(request):
    _require(request, "ordersync.view_syncedorder")
    orders = _selected_orders(request)
    return TemplateResponse(request, "ordersync/pick_list.html", {
        "orders": orders, "lines": pick_lines(orders), "title": gettext("Pick list"),
        "brand": orders[0].store.settings if orders and hasattr(orders[0].store, "settings") else None,
    })
