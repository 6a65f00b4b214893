"""People's own spaces on a shared server: names with scrypt-hashed passphrases, lockouts, one workspace each."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from workspace.projects import Workspace, default_root

MIN_PASSPHRASE = 8  # characters
MAX_NAME = 60  # characters
MAX_FAILURES = 5  # wrong passphrases in a row before a name is locked
LOCK_SECONDS = 300.0  # how long a name stays locked; each further wrong passphrase locks it again
SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # RFC 7914's interactive setting: about 16 MiB and a few tens of ms
_SPACE_ID = re.compile(r"[0-9a-f]{16}")
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, secret TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, locked_until REAL NOT NULL);
"""


@dataclass(frozen=True)
class Space:
    """Whose projects a browser session works on: one person's space, or the single-user local one."""

    id: str  # "local", or a user's id (16 hex digits): the name of their folder
    name: str  # as the person typed it, for the sidebar

    @property
    def local(self) -> bool:
        return self.id == LOCAL.id


LOCAL = Space("local", "This computer")


class SignInError(Exception):
    """A name or passphrase that cannot be used; the message is for the user."""


def name_key(name: str) -> str:
    """The form names are compared in: trimmed, inner spaces collapsed, case-insensitive."""
    return " ".join(name.split()).casefold()


def hash_passphrase(passphrase: str, salt: bytes | None = None) -> str:
    """The stored form of a passphrase: ``scrypt$n$r$p$salt$hash`` (hex), with a random salt per user."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(passphrase.encode(), salt=salt, dklen=32, maxmem=64 * 2**20, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_passphrase(passphrase: str, stored: str) -> bool:
    """Whether a passphrase matches its stored form (compared in constant time)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        again = hashlib.scrypt(passphrase.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(digest) // 2, maxmem=64 * 2**20)
    except ValueError:
        return False
    return kind == "scrypt" and hmac.compare_digest(again.hex(), digest)


_DECOY = hash_passphrase("no one has this passphrase")  # checked for unknown names, so they take as long


def space_workspace(space: Space, root: str | Path | None = None) -> Workspace:
    """The projects of a space: the workspace root itself for the local space, ``users/<id>`` for a person."""
    base = Path(root) if root is not None else default_root()
    if space.local:
        return Workspace(base)
    if not _SPACE_ID.fullmatch(space.id):
        raise SignInError("This space does not exist.")
    return Workspace(base / "users" / space.id)


class Users:
    """The catalogue of people on a server (``users.sqlite3`` in the workspace root); any thread may call it."""

    def __init__(self, root: str | Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.root, self.clock = Path(root) if root is not None else default_root(), clock
        self.root.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.root / "users.sqlite3", timeout=10)

    def create(self, name: str, passphrase: str) -> Space:
        """Make a new space; raises SignInError when the name is empty, too long or taken, or the
        passphrase too short."""
        shown = " ".join(name.split())
        if not shown:
            raise SignInError("Type a name for your space, for example your first name.")
        if len(shown) > MAX_NAME:
            raise SignInError(f"Choose a name of at most {MAX_NAME} characters.")
        if len(passphrase) < MIN_PASSPHRASE:
            raise SignInError(f"Choose a passphrase of at least {MIN_PASSPHRASE} characters. A few words you "
                              "will remember, like a short sentence, work well.")
        space = Space(secrets.token_hex(8), shown)
        try:
            with closing(self._connect()) as db, db:
                db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                           (space.id, name_key(shown), shown, hash_passphrase(passphrase), self.clock()))
        except sqlite3.IntegrityError:
            raise SignInError(f"There is already a space called {shown}. Sign in to it, or choose another "
                              "name.") from None
        return space

    def sign_in(self, name: str, passphrase: str) -> Space:
        """The space of this name when the passphrase matches; raises SignInError (in plain words) otherwise,
        and once a name has had ``MAX_FAILURES`` wrong passphrases in a row, for ``LOCK_SECONDS``."""
        key = name_key(name)
        if not key:
            raise SignInError("Type the name of your space.")
        self._refuse_if_locked(key)
        with closing(self._connect()) as db:
            row = db.execute("SELECT id, name, secret FROM users WHERE key = ?", (key,)).fetchone()
        matches = verify_passphrase(passphrase, row[2] if row else _DECOY)  # as slow for unknown names
        if row is None or not matches:
            raise self._failed(key)
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM attempts WHERE key = ?", (key,))
        return Space(row[0], row[1])

    def _refuse_if_locked(self, key: str) -> None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT locked_until FROM attempts WHERE key = ?", (key,)).fetchone()
        if row and row[0] > self.clock():
            raise SignInError(_locked_message(row[0] - self.clock()))

    def _failed(self, key: str) -> SignInError:
        """Count a wrong passphrase (for a known or unknown name alike) and say what happens next."""
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO attempts VALUES (?, 1, 0) ON CONFLICT(key) DO UPDATE SET failures = "
                       "failures + 1", (key,))
            failures = db.execute("SELECT failures FROM attempts WHERE key = ?", (key,)).fetchone()[0]
            if failures >= MAX_FAILURES:
                db.execute("UPDATE attempts SET locked_until = ? WHERE key = ?", (self.clock() + LOCK_SECONDS, key))
        if failures >= MAX_FAILURES:
            return SignInError("That name and passphrase do not match. " + _locked_message(LOCK_SECONDS))
        left = MAX_FAILURES - failures
        return SignInError(f"That name and passphrase do not match. Check both and try again ({left} more "
                          f"{'try' if left == 1 else 'tries'} before this name is locked for a while).")


def _locked_message(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (f"After several wrong passphrases this name is locked for {minutes} more "
            f"minute{'s' if minutes != 1 else ''}, to keep your space safe. Please wait, then try again.")
