"""Problems found in registry files, domain errors, and the exit codes they map to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import IntEnum

from radiant_registry.printable import printable_name


class ExitCode(IntEnum):
    """Exit codes follow BSD sysexits(3), so cron wrappers can tell failures apart."""

    OK = 0
    CHANGES_PENDING = 2  # `diff --exit-code` only: the database differs from the files
    USAGE = 64
    DATA_INVALID = 65
    UNAVAILABLE = 69  # database unreachable
    SOFTWARE = 70  # an error the tool did not foresee: a bug
    IOERR = 74  # a statement failed (the transaction was rolled back), or output did
    TEMPFAIL = 75  # another writer holds the lock, or a timeout
    CONFIG = 78  # schema not at head, bad configuration
    HUNG_UP = 129  # SIGHUP (the terminal closed: an SSH session dropped): 128 + SIGHUP
    INTERRUPTED = 130  # Ctrl-C while working: 128 + SIGINT, as shells report it
    STOPPED = 143  # SIGTERM (systemd stop, timeout(1)) while working: 128 + SIGTERM


@dataclass(frozen=True, order=True, slots=True)
class Problem:
    """One problem in one registry file, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{printable_name(self.file)}:{self.line}:{self.column}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def location(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column}


def quoted(text: str, limit: int = 40) -> str:
    """`text` quoted, cut short: a message must not repeat a 5000-digit value or key."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}..."


class RegistryError(Exception):
    """Base of every error the CLI turns into a message and an exit code."""

    exit_code: ExitCode = ExitCode.CONFIG


class InvalidRegistry(RegistryError):
    exit_code = ExitCode.DATA_INVALID

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        counted = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
        super().__init__(f"{counted} in the registry files")


class UsageError(RegistryError):
    exit_code = ExitCode.USAGE


class ConfigError(RegistryError):
    exit_code = ExitCode.CONFIG


class DatabaseUnavailable(RegistryError):
    exit_code = ExitCode.UNAVAILABLE


class DatabaseFailure(RegistryError):
    exit_code = ExitCode.IOERR


class LockTimeout(RegistryError):
    exit_code = ExitCode.TEMPFAIL


class ConcurrentChange(RegistryError):
    """Another sync applied other files between our reading them and taking the lock."""

    exit_code = ExitCode.TEMPFAIL


class Stopped(KeyboardInterrupt):
    """SIGTERM (or SIGHUP), raised where the process is, so that it unwinds as Ctrl-C
    does: the transaction rolled back, the run recorded, the workers ended."""

    def __init__(self, hung_up: bool = False) -> None:
        super().__init__()
        self.hung_up = hung_up


def interruption(exc: KeyboardInterrupt) -> tuple[str, ExitCode]:
    """What stopped the run, in the words of a message, and the exit code it gets."""
    if isinstance(exc, Stopped):
        if exc.hung_up:
            return "stopped (SIGHUP: the terminal closed)", ExitCode.HUNG_UP
        return "stopped (SIGTERM)", ExitCode.STOPPED
    return "interrupted (Ctrl-C)", ExitCode.INTERRUPTED


def unexpected(exc: BaseException) -> str:
    """An error no one foresaw (a bug), in one line: its type and its first line of text
    (which may quote a URL: redact it before showing it)."""
    text = str(exc).strip()
    return f"unexpected error ({type(exc).__name__}{': ' + text.splitlines()[0] if text else ''})"


def io_failure(exc: OSError) -> str:
    """An input/output error (output to a full disk or a closed descriptor) in the words of
    a message: the one printed (exit 74) and a failed run's record alike."""
    return f"input/output error: {exc.strerror or exc}"


class AfterCommit(RegistryError):
    """Ctrl-C, SIGTERM or a log that could not be written once the sync had committed:
    said so, since its changes are in the database. Its exit code is the cause's."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class WorkerDied(RegistryError):
    """A worker process reading the files ended abruptly (killed, out of memory)."""

    exit_code = ExitCode.SOFTWARE


class UnsafePrune(RegistryError):
    """A prune that would retire a whole provider or over a quarter of one, without --force."""

    exit_code = ExitCode.DATA_INVALID


class SchemaOutOfDate(RegistryError):
    exit_code = ExitCode.CONFIG


class NotFound(RegistryError):
    """A command named a model or provider the database does not have, or an override
    that is not there."""

    exit_code = ExitCode.USAGE


class UnknownModel(NotFound):
    """No model answers to the name given. Its "did you mean" (`hint`) is worked out when
    the message is read, once the command's transaction is over: over 100,000 names it may
    take seconds, which must not keep a transaction open (on SQLite, the registry's lock)."""

    def __init__(self, name: str, hint: Callable[[], str]) -> None:
        super().__init__(name)
        self.name = name
        self._hint = hint
        self._message: str | None = None

    def __str__(self) -> str:
        if self._message is None:  # worked out once, however often it is said
            try:
                hint = self._hint()
            except Exception:  # names edited by hand into bytes, say: the error, unhinted
                hint = ""
            self._message = f"no model {self.name!r} in the database{hint}"
        return self._message
