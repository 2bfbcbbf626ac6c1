"""Admin for accounts and stores: connect, edit (audited), see connection health, test the connection."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .forms import OrderTimeAccountForm, ShipStationAccountForm, StoreConnectForm, form_changes
from .models import OrderTimeAccount, ShipStationAccount, StatusMapping, Store, StoreSettings
from .services import (
    ConnectionCheckFailed,
    audit_log_record,
    status_mapping_set,
    store_check_connection,
    store_connect,
)


class AuditedAdminMixin:
    """Writes one audit log entry per admin save, with field-level before/after (secrets: "changed")."""

    def save_model(self, request, obj, form, change):
        changes = form_changes(form) if change else {}
        super().save_model(request, obj, form, change)
        if change and not changes:
            return
        audit_log_record(
            actor=request.user, store=self.audited_store(obj), action=f"{obj._meta.model_name}_{'changed' if change else 'added'}",
            obj=obj, changes=changes,
        )

    def audited_store(self, obj):
        return None


@admin.register(OrderTimeAccount)
class OrderTimeAccountAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = OrderTimeAccountForm
    list_display = ["username", "endpoint_url", "updated_at"]
    search_fields = ["username"]


@admin.register(ShipStationAccount)
class ShipStationAccountAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = ShipStationAccountForm
    list_display = ["__str__", "base_url", "updated_at"]
    search_fields = ["label"]


class StoreSettingsInline(admin.StackedInline):
    model = StoreSettings
    can_delete = False
    min_num = 1
    max_num = 1
    verbose_name_plural = _("settings")
    fieldsets = [
        (_("Branding"), {"fields": ["display_name", "logo_url", "accent_color", "support_email", "website", "phone"]}),
        (_("Notifications"), {"fields": [
            "email_buyer", "include_tracking_link", "bcc_email", "ordertime_notifies_buyer",
            "notice_timing", "notice_delay_hours", "notes_to_buyer_source", "carrier_overrides",
        ]}),
        (_("Product handling"), {"fields": [
            "import_images", "weight_unit", "import_options", "import_locations", "normalize_addresses",
            "shipping_method_mapping",
        ]}),
    ]


class StatusMappingInline(admin.TabularInline):
    model = StatusMapping
    extra = 1
    fields = ["ordertime_status", "shipstation_status"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    change_form_template = "admin/connections/store/change_form.html"
    list_display = ["name", "active", "shipstation_store_id", "ordertime_health", "shipstation_health", "last_import_at", "last_update_at"]
    list_filter = ["active", "ordertime_health", "shipstation_health"]
    search_fields = ["name"]
    inlines = [StoreSettingsInline, StatusMappingInline]
    actions = ["test_connection"]
    readonly_fields = [
        "order_key_prefix", "connection_health", "import_cursor", "shipment_cursor", "void_cursor",
        "fulfillment_cursor", "last_import_at", "last_update_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "active", "connection_health"]}),
        (_("Accounts"), {"fields": ["ordertime_account", "shipstation_account", "shipstation_store_id", "order_key_prefix"]}),
        (_("Schedule"), {"fields": ["initial_lookback_days", "import_interval_minutes", "update_interval_minutes"]}),
        (_("Progress"), {"classes": ["collapse"], "fields": [
            "last_import_at", "last_update_at", "import_cursor", "shipment_cursor", "void_cursor", "fulfillment_cursor",
        ]}),
    ]

    @admin.display(description=_("Connection health"))
    def connection_health(self, store: Store) -> str:
        return render_to_string("admin/connections/store/_health.html", {"store": store})

    # --- Connecting a new store: one form, one service call, verified ----------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StoreConnectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                store = store_connect(
                    name=data["name"], ordertime_username=data["ordertime_username"],
                    ordertime_api_key=data["ordertime_api_key"], ordertime_url=data["ordertime_url"],
                    shipstation_api_key=data["shipstation_api_key"], shipstation_api_secret=data["shipstation_api_secret"],
                    shipstation_url=data["shipstation_url"], shipstation_store_id=data["shipstation_store_id"],
                    verify=data["verify"], actor=request.user,
                )
            except ConnectionCheckFailed as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, gettext('Store "%(name)s" connected.') % {"name": store.name}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:connections_store_change", args=[store.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Connect a store"),
            "form": form,
            "add": True,
            "has_view_permission": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/connections/store/connect.html", context)

    # --- Audited edits; mapping saves go through the service that releases held orders ----------

    def save_model(self, request, obj, form, change):
        changes = form_changes(form)
        super().save_model(request, obj, form, change)
        if changes:
            audit_log_record(actor=request.user, store=obj, action="store_changed", obj=obj, changes=changes)

    def save_formset(self, request, form, formset, change):
        if formset.model is StatusMapping:
            self._save_status_mappings(request, form.instance, formset)
            return
        changed = [(f, form_changes(f)) for f in formset.forms if f.has_changed()]
        super().save_formset(request, form, formset, change)
        for inline_form, changes in changed:
            if changes:
                audit_log_record(actor=request.user, store=form.instance, action="store_settings_changed",
                                 obj=inline_form.instance, changes=changes)

    @transaction.atomic
    def _save_status_mappings(self, request, store: Store, formset) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        to_set = []
        for mapping_form in formset.forms:
            instance = mapping_form.instance
            if mapping_form in formset.deleted_forms:
                if instance.pk:
                    self._delete_mapping(request, store, instance)
                    formset.deleted_objects.append(instance)
                continue
            if not mapping_form.has_changed():
                continue
            data = mapping_form.cleaned_data
            if instance.pk and "ordertime_status" in mapping_form.changed_data:
                # A renamed status is a different mapping: drop the old one, then set the new one.
                self._delete_mapping(request, store, StatusMapping.objects.get(pk=instance.pk))
            to_set.append((mapping_form, data["ordertime_status"], data["shipstation_status"]))
        for mapping_form, ordertime_status, shipstation_status in to_set:
            saved = status_mapping_set(store=store, ordertime_status=ordertime_status,
                                       shipstation_status=shipstation_status, actor=request.user)
            if mapping_form.instance.pk:
                formset.changed_objects.append((saved, mapping_form.changed_data))
            else:
                formset.new_objects.append(saved)

    @staticmethod
    def _delete_mapping(request, store: Store, mapping: StatusMapping) -> None:
        audit_log_record(actor=request.user, store=store, action="status_mapping_deleted", obj=mapping,
                         changes={"ordertime_status": mapping.ordertime_status, "before": mapping.shipstation_status, "after": None})
        mapping.delete()

    # --- Test connection: as an action on the list and as a button on the store page ------------

    @admin.action(description=_("Test connection"), permissions=["change"])
    def test_connection(self, request, queryset):
        for store in queryset.select_related("ordertime_account", "shipstation_account"):
            self._report_connection(request, store)

    def _report_connection(self, request, store: Store) -> None:
        report = store_check_connection(store=store)
        for check in (report.ordertime, report.shipstation):
            self.message_user(request, f"{store.name}: {check.message}", messages.SUCCESS if check.ok else messages.ERROR)

    def test_connection_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        store = get_object_or_404(Store.objects.select_related("ordertime_account", "shipstation_account"), pk=object_id)
        if not self.has_change_permission(request, store):
            raise PermissionDenied
        self._report_connection(request, store)
        return HttpResponseRedirect(reverse("admin:connections_store_change", args=[store.pk]))

    def get_urls(self):
        extra = [
            path("<path:object_id>/test-connection/", self.admin_site.admin_view(self.test_connection_view),
                 name="connections_store_test_connection"),
        ]
        return extra + super().get_urls()
