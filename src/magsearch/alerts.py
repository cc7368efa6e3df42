"""Saved searches and their alerts: the ledger, the matching after each ingest commit, deliveries.

A signed-in user (any role; `reader` is the role for people who only read) saves a search: its
words, filters and sort. Each saved search has an Atom feed at a secret URL (feed readers cannot
sign in), and optionally a webhook and an e-mail address (magsearch.delivery sends them).

Matching ("percolation"): after each ingest commit, the versions the catalog gained since the last
match (a watermark on the versions table) are written to a small Whoosh index in memory, and every
saved search runs against that index alone — never over the whole archive. Each hit the search's
owner may see (restricted documents only for archivists and admins) becomes one row of the ledger,
keyed by (saved search, document version): a version matches a saved search once, whatever runs
the matching again. Visibility is checked again when an alert is shown or sent, so a document
restricted or withdrawn since never reaches a user who cannot see it.

Deliveries (webhook, e-mail) are rows beside the ledger, one per alert and channel: `pending`, then
`sending` (committed before the send), then `sent`, or back to `pending` with a later `next_at`
after a failure, or `failed` after MAX_ATTEMPTS. A send interrupted by a crash leaves `sending`:
after CLAIM_TIMEOUT it is sent again (at least once; each alert carries its stable id so a receiver
can drop the repeat). See docs/alerts.md.

No Flask here: the CLI, the ingest hook and the web all use this module.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from .accounts import Accounts, User, _audit
from .archive import Archive, now_iso
from .config import Settings
from .errors import NotFound, QueryError
from .index.base import IndexBackend, SearchRequest, SearchResult
from .index.sync import record_for
from .index.whoosh import WhooshIndex
from .results import Hit
from .search import SORTS, SearchService

log = logging.getLogger("magsearch.alerts")

NAME_MAX = 200
QUERY_MAX = 2000
MAX_SEARCHES_PER_USER = 200
MATCH_CHUNK = 200  # versions percolated at a time (one in-memory index each)
PAGE = 100  # hits read per page of a percolation search
MAX_ATTEMPTS = 6  # per alert and channel; then `failed`, shown to the user
FIRST_RETRY = timedelta(minutes=1)  # then x4 each time: 1, 4, 16, 64 minutes, 4 h 16 min
CLAIM_TIMEOUT = timedelta(minutes=5)  # a `sending` row older than this was interrupted
BATCH = 50  # alerts in one webhook call or e-mail
CHANNELS = ("webhook", "email")
FEED_SIZE = 50

_SCHEMA = """
CREATE TABLE IF NOT EXISTS saved_searches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    filters_json TEXT NOT NULL DEFAULT '{}',
    sort TEXT NOT NULL DEFAULT 'relevance',
    feed_nonce TEXT NOT NULL,
    webhook_url TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    since_version INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS saved_searches_user ON saved_searches(user_id);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    search_id INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    version TEXT NOT NULL,
    snippet TEXT NOT NULL DEFAULT '',
    matched_at TEXT NOT NULL,
    UNIQUE (search_id, doc_id, version)
);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    alert_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    claimed_at TEXT NOT NULL DEFAULT '',
    sent_at TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (alert_id, channel)
);
CREATE INDEX IF NOT EXISTS alert_deliveries_due ON alert_deliveries(channel, status, next_at);
CREATE TABLE IF NOT EXISTS alert_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class AlertError(QueryError):
    """A saved search, webhook address or e-mail address that cannot be accepted (one line)."""


@dataclass(frozen=True)
class SavedSearch:
    id: int
    user_id: int
    name: str
    query: str
    filters: dict[str, list[str]]
    sort: str
    webhook_url: str
    email: str
    since_version: int
    created_at: str
    feed_nonce: str = field(repr=False, default="")

    def state(self) -> dict[str, Any]:
        """The search as URL arguments (for links to the search page)."""
        out: dict[str, Any] = {"q": self.query, **self.filters}
        if self.sort != "relevance":
            out["sort"] = self.sort
        return out


class Alerts:
    """Saved searches, their ledger of alerts and its deliveries, in the archive's catalog."""

    def __init__(self, archive: Archive, settings: Settings) -> None:
        self.archive = archive
        self.settings = settings
        self.accounts = Accounts(archive)
        archive.db.executescript(_SCHEMA)

    # -- saved searches --------------------------------------------------------------------------
    def save(
        self,
        user: User,
        name: str,
        query: str,
        filters: dict[str, list[str]] | None = None,
        sort: str = "relevance",
        *,
        actor: str,
    ) -> SavedSearch:
        """Save a search for `user`. The search is run once (over the index as it is) so a search
        that cannot be understood is refused now, with the search service's own message."""
        name = _name(name or query or "Saved search")
        query = query or ""
        if len(query) > QUERY_MAX:
            raise AlertError(f"the search is too long to save (at most {QUERY_MAX} characters)")
        filters = {k: [str(v) for v in vs] for k, vs in (filters or {}).items() if vs}
        if sort not in SORTS:
            raise AlertError(f"unknown sort {sort[:30]!r} (use one of: {', '.join(SORTS)})")
        if not query.strip() and not filters:
            raise AlertError("an empty search cannot be saved: give some words or a filter")
        check = SearchService(
            self.archive, cast(IndexBackend, _Nothing()), self.settings, loose=False, suggest=False
        )
        check.search(query, filters=filters, sort=sort, per_page=1)  # raises QueryError
        count = self.archive.db.execute(
            "SELECT COUNT(*) FROM saved_searches WHERE user_id=?", (user.id,)
        ).fetchone()[0]
        if count >= MAX_SEARCHES_PER_USER:
            raise AlertError(f"at most {MAX_SEARCHES_PER_USER} saved searches per user")
        with self.archive.transaction() as db:
            since = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM versions").fetchone()[0]
            cur = db.execute(
                "INSERT INTO saved_searches(user_id, name, query, filters_json, sort, feed_nonce, "
                "since_version, created_at) VALUES (?,?,?,?,?,?,?,?)",
                (user.id, name, query, json.dumps(filters, sort_keys=True), sort,
                 secrets.token_hex(16), since, now_iso()),
            )  # fmt: skip
            search_id = int(cur.lastrowid or 0)
            _audit(db, actor, "saved-search-add", str(search_id),
                   {"user": user.name, "name": name, "query": query, "filters": filters})  # fmt: skip
        return self.get(user, search_id)

    def get(self, user: User, search_id: int) -> SavedSearch:
        """The user's own saved search; anyone else's does not exist (NotFound)."""
        row = self.archive.db.execute(
            "SELECT * FROM saved_searches WHERE id=? AND user_id=?", (search_id, user.id)
        ).fetchone()
        if row is None:
            raise NotFound(f"no saved search {search_id}")
        return _saved(row)

    def searches(self, user: User) -> list[SavedSearch]:
        rows = self.archive.db.execute(
            "SELECT * FROM saved_searches WHERE user_id=? ORDER BY name, id", (user.id,)
        ).fetchall()
        return [_saved(r) for r in rows]

    def rename(self, user: User, search_id: int, name: str, *, actor: str) -> SavedSearch:
        old = self.get(user, search_id)
        name = _name(name)
        with self.archive.transaction() as db:
            db.execute("UPDATE saved_searches SET name=? WHERE id=?", (name, old.id))
            _audit(db, actor, "saved-search-rename", str(old.id), {"from": old.name, "to": name})
        return self.get(user, search_id)

    def delete(self, user: User, search_id: int, *, actor: str) -> None:
        old = self.get(user, search_id)
        with self.archive.transaction() as db:
            db.execute(
                "DELETE FROM alert_deliveries WHERE alert_id IN "
                "(SELECT id FROM alerts WHERE search_id=?)",
                (old.id,),
            )
            db.execute("DELETE FROM alerts WHERE search_id=?", (old.id,))
            db.execute("DELETE FROM saved_searches WHERE id=?", (old.id,))
            _audit(db, actor, "saved-search-delete", str(old.id), {"name": old.name})

    def set_delivery(
        self, user: User, search_id: int, *, webhook_url: str, email: str, actor: str,
        check_address: Callable[[str], str] | None = None,
    ) -> SavedSearch:  # fmt: skip
        """Set (or clear, with "") the webhook address and the e-mail address. The webhook address
        is checked now (magsearch.delivery: http(s), public addresses only unless allowed) and
        again at every send."""
        from . import delivery

        old = self.get(user, search_id)
        webhook_url = webhook_url.strip()
        email = email.strip()
        if webhook_url:
            (check_address or delivery.check_webhook_url)(webhook_url)
        if email:
            delivery.check_email(email)
            try:
                host = delivery.smtp_settings().host
            except delivery.DeliveryError as exc:
                raise AlertError(str(exc)) from None
            if not host:
                raise AlertError("e-mail alerts are off here: MAGSEARCH_SMTP_HOST is not set")
        with self.archive.transaction() as db:
            db.execute(
                "UPDATE saved_searches SET webhook_url=?, email=? WHERE id=?",
                (webhook_url, email, old.id),
            )
            _audit(db, actor, "saved-search-delivery", str(old.id),
                   {"webhook": webhook_url, "email": email})  # fmt: skip
        return self.get(user, search_id)

    # -- the feed token --------------------------------------------------------------------------
    def feed_token(self, saved: SavedSearch, key: str) -> str:
        """The secret of the search's feed URL: an HMAC of its id and nonce under the app's key
        (nothing usable is stored: renewing the nonce revokes the old URL)."""
        mac = hmac.new(key.encode(), f"feed:{saved.id}:{saved.feed_nonce}".encode(), "sha256")
        return base64.urlsafe_b64encode(mac.digest()[:24]).decode()

    def renew_feed(self, user: User, search_id: int, *, actor: str) -> SavedSearch:
        old = self.get(user, search_id)
        with self.archive.transaction() as db:
            db.execute(
                "UPDATE saved_searches SET feed_nonce=? WHERE id=?", (secrets.token_hex(16), old.id)
            )
            _audit(db, actor, "saved-search-feed-renew", str(old.id), {"name": old.name})
        return self.get(user, search_id)

    def by_feed_token(self, search_id: int, token: str, key: str) -> tuple[SavedSearch, User]:
        """The saved search and its owner for a feed URL; NotFound for a wrong, revoked or
        disabled one (the same answer for all, so the URL tells nothing)."""
        row = self.archive.db.execute(
            "SELECT * FROM saved_searches WHERE id=?", (search_id,)
        ).fetchone()
        if row is not None:
            saved = _saved(row)
            user = self.accounts.user_by_id(saved.user_id)
            if (
                user is not None
                and not user.disabled
                and hmac.compare_digest(self.feed_token(saved, key), token)
            ):
                return saved, user
        raise NotFound("no such feed (the address may have been renewed)")

    # -- the ledger ------------------------------------------------------------------------------
    def alerts(
        self, saved: SavedSearch, user: User, limit: int = FEED_SIZE
    ) -> list[dict[str, Any]]:
        """The search's newest alerts that `user` may see now (withdrawn or since-restricted
        documents left out), each with its document."""
        rows = self.archive.db.execute(
            "SELECT * FROM alerts WHERE search_id=? ORDER BY id DESC LIMIT ?",
            (saved.id, limit * 2),
        ).fetchall()
        out = []
        for row in rows:
            doc = self._visible(row["doc_id"], user)
            if doc is not None:
                out.append({**dict(row), "doc": doc})
        return out[:limit]

    def _visible(self, doc_id: str, user: User) -> Any:
        doc = self.archive.find_document(doc_id)
        if doc is None or doc.withdrawn or user.disabled:
            return None
        if doc.restricted and not user.can("archivist"):
            return None
        return doc

    def status(self, saved: SavedSearch) -> dict[str, Any]:
        """What the user sees of the search's alerts and deliveries: counts by channel and state,
        and the last delivery error of each channel."""
        alerts = self.archive.db.execute(
            "SELECT COUNT(*) FROM alerts WHERE search_id=?", (saved.id,)
        ).fetchone()[0]
        out: dict[str, Any] = {"alerts": alerts}
        for channel in CHANNELS:
            rows = self.archive.db.execute(
                "SELECT d.status, COUNT(*) AS n FROM alert_deliveries d JOIN alerts a "
                "ON a.id = d.alert_id WHERE a.search_id=? AND d.channel=? GROUP BY d.status",
                (saved.id, channel),
            ).fetchall()
            last = self.archive.db.execute(
                "SELECT d.error, d.next_at, d.status FROM alert_deliveries d JOIN alerts a "
                "ON a.id = d.alert_id WHERE a.search_id=? AND d.channel=? AND d.error != '' "
                "ORDER BY d.claimed_at DESC LIMIT 1",
                (saved.id, channel),
            ).fetchone()
            out[channel] = {
                "counts": {r["status"]: r["n"] for r in rows},
                "error": last["error"] if last else "",
                "retry_at": last["next_at"] if last and last["status"] == "pending" else "",
            }
        return out

    # -- matching --------------------------------------------------------------------------------
    def match_new(self) -> int:
        """Percolate the versions cataloged since the last match against every saved search;
        returns how many alerts were recorded. Safe to run again and from several processes (the
        ledger's key makes a second match of a version a no-op)."""
        added = 0
        while True:
            mark = self._watermark()
            rows = self.archive.db.execute(
                "SELECT v.rowid AS n, v.doc_id, v.sha256, d.current_version FROM versions v "
                "JOIN documents d ON d.id = v.doc_id WHERE v.rowid > ? ORDER BY v.rowid LIMIT ?",
                (mark, MATCH_CHUNK),
            ).fetchall()
            if not rows:
                return added
            # a document's older versions in the same chunk are no longer what it says
            current = {r["doc_id"]: r["n"] for r in rows if r["sha256"] == r["current_version"]}
            if current:
                added += self._percolate(current)
            self._set_watermark(rows[-1]["n"])

    def _watermark(self) -> int:
        row = self.archive.db.execute(
            "SELECT value FROM alert_state WHERE key='matched_version'"
        ).fetchone()
        if row is not None:
            return int(row["value"])
        # the first match of this archive: what was there before alerts existed alerts no one
        with self.archive.transaction() as db:
            top = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM versions").fetchone()[0]
            db.execute(
                "INSERT OR IGNORE INTO alert_state(key, value) VALUES ('matched_version', ?)",
                (str(top),),
            )
        return self._watermark()

    def _set_watermark(self, top: int) -> None:
        with self.archive.transaction() as db:
            db.execute(
                "UPDATE alert_state SET value = MAX(CAST(value AS INTEGER), ?) "
                "WHERE key='matched_version'",
                (top,),
            )

    def _percolate(self, rowid_of: dict[str, int]) -> int:
        searches = [
            (s, u)
            for s in (_saved(r) for r in self.archive.db.execute("SELECT * FROM saved_searches"))
            if (u := self.accounts.user_by_id(s.user_id)) is not None and not u.disabled
            and any(n > s.since_version for n in rowid_of.values())
        ]  # fmt: skip
        if not searches:
            return 0
        records = [r for r in (record_for(self.archive, d) for d in rowid_of) if r is not None]
        if not records:
            return 0
        mem = WhooshIndex(None)
        try:
            mem.write(records, fresh=[r.doc.id for r in records])
            # searched strictly: a document matches only if it meets the whole query (no "some of
            # the words" fall-back, which on a handful of documents would alert on documents the
            # saved search would never show), and no spelling suggestion
            service = _Percolator(self.archive, mem, self.settings, loose=False, suggest=False)
            found: list[tuple[SavedSearch, Hit]] = []
            for saved, user in searches:
                try:
                    hits = service.all_hits(saved, include_restricted=user.can("archivist"))
                except QueryError as exc:  # saved under an older query language, say
                    log.warning("saved search %s cannot run: %s", saved.id, exc)
                    continue
                found += [(saved, h) for h in hits if rowid_of.get(h.id, 0) > saved.since_version]
        finally:
            mem.close()
        return self._record(found)

    def _record(self, found: list[tuple[SavedSearch, Hit]]) -> int:
        added = 0
        now = now_iso()
        with self.archive.transaction() as db:
            for saved, hit in found:
                cur = db.execute(
                    "INSERT OR IGNORE INTO alerts(search_id, doc_id, version, snippet, matched_at) "
                    "VALUES (?,?,?,?,?)",
                    (saved.id, hit.id, hit.version, hit.snippet, now),
                )
                if not cur.rowcount:
                    continue  # matched before: an alert is recorded (and sent) once
                added += 1
                for channel, on in (("webhook", saved.webhook_url), ("email", saved.email)):
                    if on:
                        db.execute(
                            "INSERT INTO alert_deliveries(alert_id, channel, status, next_at) "
                            "VALUES (?,?,'pending',?)",
                            (cur.lastrowid, channel, now),
                        )
        return added

    # -- deliveries ------------------------------------------------------------------------------
    def deliver_due(self, *, now: datetime | None = None) -> dict[str, int]:
        """Send what is due on every channel: the pending deliveries whose time has come, and the
        sends a crash interrupted (after CLAIM_TIMEOUT). Returns counts of sent and failed
        deliveries. Never raises for a failed send: the error is kept on the delivery, shown to
        its user, and retried later (at most MAX_ATTEMPTS times)."""
        from . import delivery

        now = now or datetime.now(UTC)
        stamp = _iso(now)
        with self.archive.transaction() as db:
            db.execute(
                "UPDATE alert_deliveries SET status='pending', "
                "error='interrupted while sending: sent again (it may arrive twice)' "
                "WHERE status='sending' AND claimed_at < ?",
                (_iso(now - CLAIM_TIMEOUT),),
            )
        counts = {"sent": 0, "failed": 0}
        for channel in CHANNELS:
            groups = self.archive.db.execute(
                "SELECT DISTINCT a.search_id FROM alert_deliveries d JOIN alerts a "
                "ON a.id = d.alert_id WHERE d.channel=? AND d.status='pending' AND d.next_at <= ?",
                (channel, stamp),
            ).fetchall()
            for (search_id,) in groups:
                row = self.archive.db.execute(
                    "SELECT * FROM saved_searches WHERE id=?", (search_id,)
                ).fetchone()
                if row is None:
                    continue
                saved = _saved(row)
                user = self.accounts.user_by_id(saved.user_id)
                claimed = self._claim(saved, channel, stamp)
                if not claimed:
                    continue
                items = [
                    {**a, "doc": doc}
                    for a in claimed
                    if user is not None and (doc := self._visible(a["doc_id"], user)) is not None
                ]
                ids = [a["id"] for a in claimed]
                if not items:  # restricted or withdrawn since: nothing to send, nothing owed
                    self._finish(ids, channel, "", now, withheld=True)
                    continue
                try:
                    payload = delivery.payload(saved, items, self.settings)
                    if channel == "webhook":
                        delivery.post_webhook(saved.webhook_url, payload)
                    else:
                        delivery.send_email(saved.email, saved, payload)
                except delivery.DeliveryError as exc:
                    log.warning("%s for saved search %s failed: %s", channel, saved.id, exc)
                    counts["failed"] += len(ids)
                    self._finish(ids, channel, str(exc), now)
                    continue
                counts["sent"] += len(ids)
                self._finish(ids, channel, "", now)
        return counts

    def _claim(self, saved: SavedSearch, channel: str, stamp: str) -> list[dict[str, Any]]:
        """Mark up to BATCH due deliveries of this search `sending` (committed before the send),
        and return their alerts. Another process's claim of the same rows wins or loses whole."""
        with self.archive.transaction() as db:
            rows = db.execute(
                "SELECT a.* FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
                "WHERE a.search_id=? AND d.channel=? AND d.status='pending' AND d.next_at <= ? "
                "ORDER BY a.id LIMIT ?",
                (saved.id, channel, stamp, BATCH),
            ).fetchall()
            for r in rows:
                db.execute(
                    "UPDATE alert_deliveries SET status='sending', claimed_at=?, "
                    "attempts=attempts+1 WHERE alert_id=? AND channel=?",
                    (stamp, r["id"], channel),
                )
        return [dict(r) for r in rows]

    def _finish(
        self, ids: list[int], channel: str, error: str, now: datetime, *, withheld: bool = False
    ) -> None:
        with self.archive.transaction() as db:
            for alert_id in ids:
                if not error:
                    db.execute(
                        "UPDATE alert_deliveries SET status=?, sent_at=?, error='' "
                        "WHERE alert_id=? AND channel=?",
                        ("withheld" if withheld else "sent", _iso(now), alert_id, channel),
                    )
                    continue
                attempts = db.execute(
                    "SELECT attempts FROM alert_deliveries WHERE alert_id=? AND channel=?",
                    (alert_id, channel),
                ).fetchone()[0]
                if attempts >= MAX_ATTEMPTS:
                    status, next_at = "failed", ""
                    error = f"{error} (gave up after {attempts} attempts)"
                else:
                    status, next_at = "pending", _iso(now + FIRST_RETRY * 4 ** (attempts - 1))
                db.execute(
                    "UPDATE alert_deliveries SET status=?, next_at=?, error=? "
                    "WHERE alert_id=? AND channel=?",
                    (status, next_at, error[:500], alert_id, channel),
                )


# -- the ingest hook -------------------------------------------------------------------------------
def on_commit(archive: Archive, settings: Settings) -> Callable[[], None]:
    """What the ingester calls after each catalog commit: match the new versions. It never
    raises (an alert must not fail an ingest); a failure is logged and the next commit, or
    `magsearch alerts run`, matches what was missed (the watermark did not move)."""

    def hook() -> None:
        try:
            Alerts(archive, settings).match_new()
        except Exception as exc:  # noqa: BLE001 - whatever it is, the ingest goes on
            log.error("matching saved searches failed (retried after the next commit): %s", exc)

    return hook


def after_ingest(archive: Archive, settings: Settings) -> None:
    """After an ingest run: match anything missed and send what is due. Never raises."""
    try:
        alerts = Alerts(archive, settings)
        alerts.match_new()
        alerts.deliver_due()
    except Exception as exc:  # noqa: BLE001 - the ingest itself has succeeded
        log.error("alerts after ingest failed (retried by the next run): %s", exc)


# -- helpers ---------------------------------------------------------------------------------------
class _Nothing:
    """An index that holds nothing: a saved search's query is checked without searching."""

    schema_version = 0

    def search(self, request: SearchRequest) -> SearchResult:
        return SearchResult(total=0, hits=[], facets={})


class _Percolator(SearchService):
    def hidden(self, *, include_restricted: bool) -> frozenset[str]:
        # the catalog has committed what is percolated: no pending list to wait for
        return self.archive.hidden_ids(include_restricted=include_restricted)

    def all_hits(self, saved: SavedSearch, *, include_restricted: bool) -> list[Hit]:
        hits: list[Hit] = []
        page = 1
        while True:
            result = self.search(
                saved.query, filters=saved.filters, sort="newest", page=page, per_page=PAGE,
                include_restricted=include_restricted,
            )  # fmt: skip
            hits += result.hits
            if page * PAGE >= result.total or not result.hits:
                return hits
            page += 1


def _name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise AlertError("a saved search needs a name")
    if len(name) > NAME_MAX:
        raise AlertError(f"the name is too long (at most {NAME_MAX} characters)")
    return name


def _saved(row: sqlite3.Row) -> SavedSearch:
    return SavedSearch(
        id=row["id"], user_id=row["user_id"], name=row["name"], query=row["query"],
        filters=json.loads(row["filters_json"]), sort=row["sort"],
        webhook_url=row["webhook_url"], email=row["email"],
        since_version=row["since_version"], created_at=row["created_at"],
        feed_nonce=row["feed_nonce"],
    )  # fmt: skip


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
