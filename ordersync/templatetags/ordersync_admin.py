"""Template helpers for the admin: the store dashboard on the admin index, and durations for people."""

from datetime import timedelta

from django import template
from django.utils.translation import gettext

from ..selectors_dashboard import store_health_list

register = template.Library()


@register.inclusion_tag("ordersync/_dashboard.html", takes_context=True)
def store_dashboard(context):
    request = context["request"]
    rows = store_health_list() if request.user.has_perm("connections.view_store") else []
    return {"rows": rows, "request": request, "csrf_token": context.get("csrf_token"), "perms": context.get("perms")}


@register.filter
def lag(delta: timedelta | None) -> str:
    """How long ago, briefly: "just now", "3 min ago", "2 h 5 min ago", "4 days ago"."""
    if delta is None:
        return gettext("never")
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return gettext("just now")
    if minutes < 60:
        age = gettext("%(minutes)d min") % {"minutes": minutes}
    elif minutes < 48 * 60:
        age = gettext("%(hours)d h %(minutes)d min") % {"hours": minutes // 60, "minutes": minutes % 60}
    else:
        age = gettext("%(days)d days") % {"days": minutes // (24 * 60)}
    return gettext("%(lag)s ago") % {"lag": age}


@register.filter
def pretty_json(value) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
