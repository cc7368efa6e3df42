"""Accounts, API tokens and the audit log: who may write, and a record of every write.

Roles: anonymous readers (no account: published documents only), `reader` (an account that only
reads: published documents, and saved searches with their alerts), `archivist` (also ingest, edit,
withdraw, see restricted documents) and `admin` (an archivist who also manages users, restores and
purges). Each role holds the rights of those before it. Passwords are Werkzeug scrypt hashes; an
API token is shown once and stored only as the sha256 of its secret (a token is 256 random bits,
so a fast hash is enough). The tables live in the catalog beside the archive's, so a backup of the
catalog carries them. No Flask here: the CLI and the web both use this module.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from .archive import Archive, now_iso
from .errors import MagsearchError, NotFound

ROLES = ("reader", "archivist", "admin")  # each holds the rights of those before it
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
TOKEN_RE = re.compile(r"^msk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
MIN_PASSWORD = 10
SIGNIN_WINDOW = timedelta(minutes=15)
SIGNIN_MAX_FAILURES = 5  # per account name and per client address, within SIGNIN_WINDOW
SECRET_KEY_FILE = "secret_key"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    secret_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_action_at ON audit(action, at);
"""


class AccountError(MagsearchError):
    """A bad name, role, password or token (one line, shown to the user)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    disabled: bool = False
    created_at: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can(self, role: str) -> bool:
        """Whether this user holds `role`: its own or one before it in ROLES (an admin holds
        every role, an archivist also the reader's)."""
        if self.disabled or self.role not in ROLES or role not in ROLES:
            return False
        return ROLES.index(self.role) >= ROLES.index(role)


class Accounts:
    """Users, tokens and the audit log, in the archive's catalog."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        archive.ensure_tables("accounts", _SCHEMA)

    # -- users ---------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password: str, *, actor: str) -> User:
        if not NAME_RE.match(name):
            raise AccountError(
                f"user name {name[:64]!r}: use 1-64 characters of a-z, 0-9, '.', '_' or '-'"
            )
        if role not in ROLES:
            raise AccountError(f"role {role[:20]!r}: must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"password too short (at least {MIN_PASSWORD} characters)")
        hashed = generate_password_hash(password, method="scrypt")
        with self.archive.transaction() as db:
            try:
                db.execute(
                    "INSERT INTO users(name, role, password_hash, created_at) VALUES (?,?,?,?)",
                    (name, role, hashed, now_iso()),
                )
            except sqlite3.IntegrityError:
                raise AccountError(f"user {name!r} already exists") from None
            _audit(db, actor, "user-add", name, {"role": role})
        return self.get_user(name)

    def set_disabled(self, name: str, disabled: bool, *, actor: str) -> User:
        with self.archive.transaction() as db:
            cur = db.execute("UPDATE users SET disabled=? WHERE name=?", (int(disabled), name))
            if cur.rowcount == 0:
                raise NotFound(f"no user {name[:64]!r}")
            _audit(db, actor, "user-disable" if disabled else "user-enable", name, {})
        return self.get_user(name)

    def get_user(self, name: str) -> User:
        row = self.archive.db.execute("SELECT * FROM users WHERE name=?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"no user {name[:64]!r}")
        return _user(row)

    def user_by_id(self, user_id: int) -> User | None:
        row = self.archive.db.execute("SELECT * FROM users WHERE id=?", (user_id,)).fetchone()
        return _user(row) if row else None

    def users(self) -> list[User]:
        return [_user(r) for r in self.archive.db.execute("SELECT * FROM users ORDER BY name")]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the name and password match an enabled account, else None. The hash is
        checked even for an unknown name, so timing does not tell which names exist."""
        row = self.archive.db.execute("SELECT * FROM users WHERE name=?", (name,)).fetchone()
        hashed = row["password_hash"] if row else _DUMMY_HASH
        ok = check_password_hash(hashed, password)
        if row is None or not ok or row["disabled"]:
            return None
        return _user(row)

    # -- sign-in failures ------------------------------------------------------------------------
    def signin_blocked(self, name: str, address: str) -> bool:
        """Too many failed sign-ins for this name or from this address in the last window."""
        since = (datetime.now(UTC) - SIGNIN_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows = self.archive.db.execute(
            "SELECT target, detail_json FROM audit WHERE action='signin-failed' AND at >= ?",
            (since,),
        ).fetchall()
        by_name = sum(1 for r in rows if r["target"] == name)
        by_address = sum(1 for r in rows if json.loads(r["detail_json"]).get("address") == address)
        return max(by_name, by_address) >= SIGNIN_MAX_FAILURES

    # -- tokens --------------------------------------------------------------------------------
    def create_token(self, name: str, *, actor: str) -> tuple[str, str]:
        """A new API token for the user: (token id, the token). The token is not stored."""
        user = self.get_user(name)
        if user.disabled:
            raise AccountError(f"user {name!r} is disabled")
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self.archive.transaction() as db:
            db.execute(
                "INSERT INTO tokens(id, user_id, secret_sha256, created_at) VALUES (?,?,?,?)",
                (token_id, user.id, _sha(secret), now_iso()),
            )
            _audit(db, actor, "token-create", token_id, {"user": name})
        return token_id, f"msk_{token_id}_{secret}"

    def revoke_token(self, token_id: str, *, actor: str) -> None:
        with self.archive.transaction() as db:
            cur = db.execute(
                "UPDATE tokens SET revoked_at=? WHERE id=? AND revoked_at=''", (now_iso(), token_id)
            )
            if cur.rowcount == 0:
                raise NotFound(f"no active token {token_id[:20]!r}")
            _audit(db, actor, "token-revoke", token_id, {})

    def tokens(self) -> list[dict[str, Any]]:
        rows = self.archive.db.execute(
            "SELECT t.id, u.name AS user, t.created_at, t.revoked_at FROM tokens t "
            "JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id"
        ).fetchall()
        return [dict(r) for r in rows]

    def user_for_token(self, token: str) -> User | None:
        """The enabled user holding this unrevoked token, else None."""
        m = TOKEN_RE.match(token.strip())
        if not m:
            return None
        row = self.archive.db.execute(
            "SELECT t.secret_sha256, t.revoked_at, u.* FROM tokens t "
            "JOIN users u ON u.id = t.user_id WHERE t.id=?",
            (m[1],),
        ).fetchone()
        if row is None or row["revoked_at"] or row["disabled"]:
            return None
        if not hmac.compare_digest(row["secret_sha256"], _sha(m[2])):
            return None
        return _user(row)

    # -- the audit log ---------------------------------------------------------------------------
    def audit(self, actor: str, action: str, target: str = "", **detail: Any) -> None:
        with self.archive.transaction() as db:
            _audit(db, actor, action, target, detail)

    def audit_many(self, rows: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        """Many entries (actor, action, target, detail) in one transaction."""
        if not rows:
            return
        with self.archive.transaction() as db:
            for actor, action, target, detail in rows:
                _audit(db, actor, action, target, detail)

    def audit_log(
        self, limit: int = 100, *, action: str = "", target: str = ""
    ) -> list[dict[str, Any]]:
        where, args = [], []
        if action:
            where.append("action = ?")
            args.append(action)
        if target:
            where.append("target = ?")
            args.append(target)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.archive.db.execute(
            f"SELECT * FROM audit {clause} ORDER BY id DESC LIMIT ?", (*args, limit)
        ).fetchall()
        return [{**dict(r), "detail": json.loads(r["detail_json"])} for r in rows]


def _audit(db: sqlite3.Connection, actor: str, action: str, target: str, detail: Any) -> None:
    db.execute(
        "INSERT INTO audit(at, actor, action, target, detail_json) VALUES (?,?,?,?,?)",
        (now_iso(), actor, action, target, json.dumps(detail, ensure_ascii=False, sort_keys=True)),
    )


def _user(row: sqlite3.Row) -> User:
    return User(row["id"], row["name"], row["role"], bool(row["disabled"]), row["created_at"])


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_DUMMY_HASH = generate_password_hash(secrets.token_hex(16), method="scrypt")


def cli_actor() -> str:
    """Who a command-line write is attributed to: the shell user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name in the environment or the password database
        return "cli:unknown"


def secret_key(data_dir: Path) -> str:
    """MAGSEARCH_SECRET_KEY (or SECRET_KEY) from the environment, else a key generated once into
    the data directory (mode 0600) and read from there by every process after."""
    env = os.environ.get("MAGSEARCH_SECRET_KEY") or os.environ.get("SECRET_KEY")
    if env:
        return env
    path = Path(data_dir) / SECRET_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # created 0600
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # atomic, and never replaces a key another process wrote
            except FileExistsError:
                pass
        finally:
            Path(tmp).unlink(missing_ok=True)
    key = path.read_text().strip()
    if len(key) < 32:
        raise MagsearchError(f"{path}: secret key too short; delete it to generate a new one")
    return key
