"""Signals the sync domain listens to, so that ``connections`` never imports ``ordersync``."""

from django.dispatch import Signal

# Sent after a status mapping is saved (and committed): kwargs store, ordertime_status.
status_mapping_saved = Signal()
