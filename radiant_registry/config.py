"""Where the registry files are (an explicit folder, the checkout's, or the bundled copy),
and the settings the commands share."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from radiant_registry.errors import ConfigError

DATA_DIR_ENV = "REGISTRY_DATA_DIR"
LOCK_TIMEOUT_S = 5.0  # how long a writer waits for another's lock (--lock-timeout)
MAX_LOCK_TIMEOUT_S = 3600
_PACKAGE = Path(__file__).resolve().parent


class Absent(StrEnum):
    """What a command does with a SQLite file that does not exist yet.

    `create`: sync and db upgrade initialise it. `read_as_empty`: diff, sync --dry-run,
    db current and db downgrade report on it as an empty database, creating nothing.
    `refuse`: the read and admin commands have nothing to work on (exit 78).
    """

    create = "create"
    read_as_empty = "read_as_empty"
    refuse = "refuse"


@dataclass(frozen=True)
class DataDir:
    path: Path
    source: str  # how it was chosen, shown to the user

    def __str__(self) -> str:
        return f"{self.path} ({self.source})"


def bundled_path(name: str) -> Path:
    """A folder shipped with the tool: inside the wheel, or at the top of a source checkout."""
    inside_wheel = _PACKAGE / "_bundled" / name
    return inside_wheel if inside_wheel.is_dir() else _PACKAGE.parent / name


def resolve_data_dir(option: Path | None = None) -> DataDir:
    """--data-dir, else $REGISTRY_DATA_DIR, else ./registry_data, else the bundled data."""
    if option is not None:
        chosen = DataDir(option, "--data-dir")
    elif os.environ.get(DATA_DIR_ENV):
        chosen = DataDir(Path(os.environ[DATA_DIR_ENV]), f"${DATA_DIR_ENV}")
    elif os.path.lexists("registry_data"):
        # Even an incomplete one (a pull half done, a file moved, a link to a removed
        # release): falling back to the bundled copy would sync older data over the
        # database without a word.
        chosen = DataDir(Path("registry_data"), "current directory")
    else:
        chosen = DataDir(bundled_path("registry_data"), "bundled with radiant-registry")
    if problem := _not_a_folder(chosen.path):
        raise ConfigError(f"no registry data: {chosen} {problem}")
    if problem := _not_a_folder(chosen.path / "providers", listed=True):
        if problem.startswith("cannot be read"):
            raise ConfigError(f"no registry data: its 'providers' folder in {chosen} {problem}")
        raise ConfigError(f"no registry data in {chosen}: expected a 'providers' folder there")
    return chosen


def _not_a_folder(path: Path, listed: bool = False) -> str | None:
    """What keeps `path` from being read as a folder, or None: its entries opened by name
    (the data folder's two: mode 711 will do), or also `listed` (mode 000, 711 say no)."""
    try:
        if path.is_dir():
            if listed:
                with os.scandir(path):
                    pass
            else:
                os.stat(os.path.join(path, "."))  # `.` is looked up in it: a search
            return None
    except OSError as exc:  # it, or a parent folder, may not be searched
        return f"cannot be read ({exc.strerror})"
    if path.exists():
        return "is not a folder"
    return "is a link to nothing" if path.is_symlink() else "does not exist"
