"""Database URLs as people write them, parsed once: every secret in one is known, so that
it is shown only as `DatabaseUrl.display` and scrubbed from every message."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy.engine import URL, make_url

from radiant_registry.errors import ConfigError

URL_ENV_VARS = ("REGISTRY_DATABASE_URL", "DATABASE_URL")
DEFAULT_URL = "sqlite:///registry.db"


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class DatabaseUrl:
    url: URL
    source: str  # where it came from, shown to the user

    @property
    def display(self) -> str:
        hidden = dict.fromkeys(self._secret_parameters, "***")
        # The scheme as people write it: the driver behind it is the tool's business.
        url = self.url.update_query_dict(hidden).set(drivername=self.url.get_backend_name())
        if url.host and url.host.startswith("/"):  # a socket's folder, encoded as given
            url = url.set(host=quote(url.host, safe=""))
        shown = url.render_as_string(hide_password=True)
        return shown.replace("=%2A%2A%2A", "=***")  # as the password is shown

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret of the URL, as written and as URL-encoded, and the password libpq
        takes from $PGPASSWORD where the URL has none: none may be shown."""
        values = [self.url.password]
        for name in self._secret_parameters:
            values += _as_list(self.url.query.get(name))
        if not self.is_sqlite and self.url.password is None:
            values.append(os.environ.get("PGPASSWORD"))
        forms: set[str] = set()
        for value in filter(None, values):
            forms |= {str(value), quote(str(value), safe=""), quote(str(value))}
        return tuple(forms)

    @property
    def _secret_parameters(self) -> list[str]:
        # sslpassword, and any spelling libpq refuses (PASSWORD=): its value is still one.
        return [name for name in self.url.query if "password" in name.lower()]

    def __str__(self) -> str:
        return f"{self.display} ({self.source})"


def resolve_url(option: str | None = None) -> DatabaseUrl:
    """--database-url, else $REGISTRY_DATABASE_URL, else $DATABASE_URL, else ./registry.db.

    An empty variable is unset; an empty --database-url is an error (a cron line's
    `--database-url "$DB"` with $DB unset must not sync the default database instead)."""
    if option is not None:
        return parse_url(option, "--database-url")
    for name in URL_ENV_VARS:
        if os.environ.get(name):
            return parse_url(os.environ[name], f"${name}")
    return parse_url(DEFAULT_URL, "default")


def parse_url(text: str, source: str) -> DatabaseUrl:
    """Accept URLs as people write them: postgres://, postgresql://, sqlite:///path."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, passed on as lone surrogates
        raise ConfigError(f"the database URL from {source} is not valid UTF-8") from None
    scheme, sep, rest = text.strip().partition("://")
    if not sep:
        raise ConfigError(f"the database URL from {source} is not a URL (expected scheme://...)")
    scheme = scheme.lower()
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        scheme = "postgresql+psycopg"
    elif scheme not in ("sqlite", "sqlite+pysqlite"):
        raise ConfigError(
            f"unsupported database {scheme!r} from {source}: use postgresql://... or sqlite:///path"
        )
    # Passwords may hold '@', ':', '%', '/' or '?' unescaped: split the user part at the last
    # '@' before the query. (A SQLite URL has no user part: an '@' there is the file name's.)
    at = -1 if scheme.startswith("sqlite") else rest.rfind("@", 0, _query_start(rest))
    username = password = None
    if at != -1:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, _, secret = userinfo.partition(":")
        username, password = unquote(user) or None, unquote(secret) if secret else None
    try:
        url = make_url(f"{scheme}://{rest}")
    except Exception:
        raise ConfigError(f"the database URL from {source} cannot be parsed") from None
    if url.get_backend_name() == "sqlite" and url.query:
        # pysqlite takes none of them from a plain path (?mode=ro would be ignored, with a
        # warning): refuse rather than open the file in another way than asked.
        raise ConfigError(
            f"the SQLite URL from {source} has parameters ({', '.join(url.query)}), "
            "which are not supported: use sqlite:///path/to/registry.db"
        )
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # An in-memory database would be synced and thrown away, reporting success: in
        # cron, a `sqlite:///$DB` with $DB unset would do that forever.
        raise ConfigError(
            f"the SQLite URL from {source} names no file: use sqlite:///path/to/registry.db"
        )
    if username is not None or password is not None:  # ":secret@host": libpq's user
        url = url.set(username=username, password=password)
    if url.host and "%" in url.host:  # libpq's URIs encode a socket folder: %2Fvar%2Frun...
        url = url.set(host=unquote(url.host))
    params = [text for name, value in url.query.items() for text in (name, *_as_list(value))]
    parts = [url.database, url.host, url.username, url.password, *params]
    if any("\x00" in part for part in parts if part):
        # %00: no file name or connection parameter can hold one (the drivers would raise).
        raise ConfigError(f"the database URL from {source} holds a NUL character (%00)")
    if url.get_backend_name() != "sqlite":
        _check_conninfo_keywords(url, source)
    if "password" in url.query:  # libpq accepts ?password=; keep it where it is hidden
        query = dict(url.query)
        given = query.pop("password")
        url = url.set(query=query, password=given if isinstance(given, str) else given[0])
    return DatabaseUrl(url, source)


def _check_conninfo_keywords(url: URL, source: str) -> None:
    """Refuse a URL parameter that is not one of libpq's connection keywords.

    SQLAlchemy hands every parameter to `psycopg.connect()`, which takes a few as its own
    Python arguments rather than libpq's: `?autocommit=false` (a true string) would commit
    each statement of a sync on its own, and `?prepare_threshold=0` fail with a traceback."""
    from psycopg import pq

    known = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    for name in url.query:
        if name not in known:
            raise ConfigError(
                f"the database URL from {source} is not usable: invalid connection option "
                f'"{name}" (not a libpq connection parameter)'
            )


def _query_start(rest: str) -> int:
    """Where the query of `user:password@host/database?query` starts: at the first '?' after
    the database's '/' or after an '@' (a '?' before both is the password's)."""
    starts = [rest.find("?", mark + 1) for mark in (rest.find("/"), rest.find("@")) if mark != -1]
    return min((start for start in starts if start != -1), default=len(rest))


def sqlite_path(db: DatabaseUrl) -> Path | None:
    return Path(db.url.database) if db.is_sqlite and db.url.database else None


def not_created_yet(db: DatabaseUrl) -> Path | None:
    """The SQLite file of `db`, if it does not exist yet."""
    path = sqlite_path(db)
    return path if path is not None and not path.exists() else None


def in_memory() -> DatabaseUrl:
    """An empty SQLite database in memory: what a file not created yet reads as."""
    return DatabaseUrl(make_url("sqlite://"), "in memory")


def scrub(db: DatabaseUrl, text: str) -> str:
    for secret in db.secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
