"""The import direction: Order Time ship docs become ShipStation orders (docs/import.md).

- ``services``: the import cycle of one store and the per-order actions (retry, re-send, handled).
- ``records``: the one write path for synced orders and their attempts.
"""
