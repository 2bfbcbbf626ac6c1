"""The import direction: Order Time ship docs become ShipStation orders (docs/import.md).

Along the data's path:

- ``walk``: which export pages a cycle reads, in which order; where the walk and the cursor stand.
- ``cycle``: ``store_import_orders``, one bounded cycle of a store, its leftovers and its run.
- ``pipeline``: map, queue, send in batches of up to 100, record; the ``createorders`` threads.
- ``actions``: held orders released, one order retried, re-sent or marked handled.
- ``records``: the one write path for synced orders and their attempts.
"""
