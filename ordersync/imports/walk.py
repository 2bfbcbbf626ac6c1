"""Which export pages a cycle reads, in which order, and where the walk and the cursor stand after it.

A walk covers one frozen window and may be spread over several bounded cycles; it is saved on the
store between them (``Store.import_walk``) and the cursor moves when its last page is in (docs/import.md).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from connections.clients.types import ExportPage
from connections.models import Store
from ordersync.locks import assert_cursor_may_move
from ordersync.models import SyncRun

LOCK_KIND = "import"


@dataclasses.dataclass
class Walk:
    """One walk over the export pages of a frozen window, possibly spread over several cycles.

    Pages are read 1 (to learn their number P), then P, P−1, …, 2, and 1 once more. With the window's
    end frozen, a ship doc edited during the walk can only leave the window, which moves every later
    doc one place towards page 1: read from the back, such a move can only bring a doc onto a page
    still to be read (or read twice), never past the reader, however long the walk pauses between
    cycles. The second read of page 1 catches what moved onto it.

    ``moves_cursor``: the walk began at or before the cursor, so reading all of it lets the cursor move
    to ``end``. ``clean``: every send of the walk so far went through. ``started_at`` tells the rows this
    walk touched from older leftovers.
    """

    start: datetime
    end: datetime
    started_at: datetime
    moves_cursor: bool
    pages: int = 0  # P, once page 1 was read
    position: int = 0  # how many pages of the walk's order are read
    clean: bool = True

    @classmethod
    def for_cycle(cls, store: Store, *, since: datetime | None) -> Walk:
        """The walk the store left unfinished, or a new one; ``since`` always begins a new walk."""
        return (None if since is not None else cls.resumed(store.import_walk)) or cls.begin(store, since=since)

    @classmethod
    def begin(cls, store: Store, *, since: datetime | None) -> Walk:
        # Order Time speaks minutes: a frozen, whole-minute end keeps every page of the walk on one window.
        now = timezone.now()
        end = now.replace(second=0, microsecond=0)
        cursor = store.import_cursor
        if since is not None:
            start = min(since, end)
        elif cursor is not None:
            start = cursor - timedelta(minutes=settings.ORDERSYNC_IMPORT_OVERLAP_MINUTES)
        else:
            start = end - timedelta(days=store.initial_lookback_days)
        return cls(start=start, end=end, started_at=now, moves_cursor=cursor is None or start <= cursor)

    @classmethod
    def resumed(cls, data: dict | None) -> Walk | None:
        if not data:
            return None
        dates = {key: datetime.fromisoformat(data[key]) for key in ("start", "end", "started_at")}
        return cls(**dates, moves_cursor=bool(data["moves_cursor"]), pages=int(data["pages"]),
                   position=int(data["position"]), clean=bool(data["clean"]))

    def as_json(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "started_at": self.started_at.isoformat(),
                "moves_cursor": self.moves_cursor, "pages": self.pages, "position": self.position, "clean": self.clean}

    def next_page(self) -> int | None:
        """The page to read next, or None when the walk is done."""
        if not self.pages:
            return 1
        # Worked out, never listed: a page count is the server's word, and a list of it costs memory.
        if self.position == 0:
            return 1
        if self.position < self.pages:
            return self.pages - self.position + 1
        return 1 if self.position == self.pages and self.pages > 1 else None

    def page_read(self, page: ExportPage) -> None:
        if not self.pages:
            # "0 with no <Order>" means nothing to do; the client already counts a missing count as 1.
            self.pages = max(page.pages, 1)
        self.position += 1


def walk_record(*, store: Store, walk: Walk, run: SyncRun, done: bool, abandoned: bool) -> None:
    """Save where the walk stands; at its clean end, move the cursor (only forwards)."""
    changes: dict = {"last_import_at": walk.end, "import_walk": None}
    run.cursor_after = store.import_cursor
    if abandoned:
        pass  # a page that keeps failing: the next cycle reads the window again from the start (§3.2)
    elif not done:
        changes["import_walk"] = walk.as_json()
        run.more_to_read = True
    elif walk.clean and walk.moves_cursor and (store.import_cursor is None or store.import_cursor < walk.end):
        assert_cursor_may_move(store_id=store.pk, kind=LOCK_KIND)
        changes["import_cursor"] = run.cursor_after = walk.end
    Store.objects.filter(pk=store.pk).update(**changes)
