"""Admin forms for accounts and stores. Secrets are write-only: never rendered back, blank keeps them."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .credential_rules import credential_validate, username_validate
from .models import (
    DEFAULT_ORDERTIME_URL,
    DEFAULT_SHIPSTATION_URL,
    OrderTimeAccount,
    ShipStationAccount,
    Store,
)
from .service_urls import service_url_validate

SECRET_CHANGED = "changed"  # what the audit log records instead of a secret's value


class SecretInput(forms.PasswordInput):
    """A password box that never carries the stored value into the page."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False)


class SecretFieldsMixin:
    """For model forms with encrypted fields listed in ``secret_fields``.

    The stored value never reaches the form (not even as ``initial``), so it cannot be rendered.
    On an existing object a blank submit keeps the stored value; on a new one the secret is required.
    """

    secret_fields: tuple[str, ...] = ()
    url_field: str = ""  # the address the secrets are sent to; changing it requires entering them again

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance is not None and self.instance.pk is not None
        for name in self.secret_fields:
            field = self.fields[name]
            field.widget = SecretInput()
            field.validators.append(credential_validate)
            self.initial[name] = ""
            field.required = not stored
            if stored:
                field.widget.attrs["placeholder"] = _("Stored. Leave blank to keep.")
                field.help_text = _("The stored value is never shown. Leave blank to keep it; type a new one to replace it.")
        if self.url_field:
            self.fields[self.url_field].validators.append(service_url_validate)
        if "username" in self.fields:
            self.fields["username"].validators.append(username_validate)

    def clean(self):
        cleaned = super().clean()
        if self._url_changed():
            # Stored secrets were entered for the old host; sending them to a new one needs them typed again.
            for name in self.secret_fields:
                if not cleaned.get(name):
                    self.add_error(name, _("The address changed: enter this again, so that stored credentials "
                                           "are only ever sent to the host they were entered for."))
        for name in self.secret_fields:
            # Missing from cleaned_data means construct_instance leaves the stored value alone.
            if not cleaned.get(name):
                cleaned.pop(name, None)
        return cleaned

    def _url_changed(self) -> bool:
        if not self.url_field or self.instance is None or self.instance.pk is None:
            return False
        return self.url_field in self.changed_data and self.cleaned_data.get(self.url_field) != self.initial.get(
            self.url_field)

    @property
    def changed_secrets(self) -> list[str]:
        return [name for name in self.secret_fields if self.cleaned_data.get(name)]


class OrderTimeAccountForm(SecretFieldsMixin, forms.ModelForm):
    secret_fields = ("api_key",)
    url_field = "endpoint_url"

    class Meta:
        model = OrderTimeAccount
        fields = ["username", "api_key", "endpoint_url"]


class ShipStationAccountForm(SecretFieldsMixin, forms.ModelForm):
    secret_fields = ("api_key", "api_secret")
    url_field = "base_url"

    class Meta:
        model = ShipStationAccount
        fields = ["label", "api_key", "api_secret", "base_url"]


class StoreConnectForm(forms.Form):
    """Everything ``store_connect`` needs to create a verified store in one step."""

    name = forms.CharField(label=_("Store name"), max_length=100)
    ordertime_username = forms.CharField(label=_("Order Time master-admin username"), max_length=200,
                                         validators=[username_validate])
    ordertime_api_key = forms.CharField(label=_("Order Time shipping integration API key"), widget=SecretInput(),
                                        validators=[credential_validate])
    ordertime_url = forms.URLField(label=_("Order Time endpoint URL"), initial=DEFAULT_ORDERTIME_URL, assume_scheme="https",
                                    validators=[service_url_validate])
    shipstation_api_key = forms.CharField(label=_("ShipStation API key"), widget=SecretInput(),
                                          validators=[credential_validate])
    shipstation_api_secret = forms.CharField(label=_("ShipStation API secret"), widget=SecretInput(),
                                             validators=[credential_validate])
    shipstation_url = forms.URLField(label=_("ShipStation base URL"), initial=DEFAULT_SHIPSTATION_URL,
                                      assume_scheme="https", validators=[service_url_validate])
    shipstation_store_id = forms.IntegerField(
        label=_("ShipStation store id"), min_value=1,
        help_text=_("The id of the ShipStation store orders are imported into (Settings › Selling Channels › Store Setup)."),
    )
    verify = forms.BooleanField(
        label=_("Test both connections before saving"), required=False, initial=True,
        help_text=_("Untick only to save a store whose services cannot be reached yet."),
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Store.objects.filter(name=name).exists():
            raise forms.ValidationError(_("A store with this name already exists; open it to change its connection."))
        return name


def form_changes(form: forms.ModelForm) -> dict[str, dict]:
    """Field-level before/after of a bound, valid model form, for the audit log. Secrets: "changed" only."""
    secret_fields = getattr(form, "secret_fields", ())
    changes: dict[str, dict] = {}
    for name in form.changed_data:
        if name in secret_fields:
            if form.cleaned_data.get(name):
                changes[name] = {"before": SECRET_CHANGED, "after": SECRET_CHANGED}
            continue
        before, after = _plain(form.initial.get(name)), _plain(form.cleaned_data.get(name))
        if before != after:  # changed_data also lists fields whose text differs but whose value does not
            changes[name] = {"before": before, "after": after}
    return changes


def _plain(value):
    """A JSON-safe rendering: model instances by pk, everything odd as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
