"""Rebuild models-dev.json from a models.dev checkout (sst/models.dev, MIT licence).

    python tests/catalogues/snapshot.py ../shared/catalogs/models.dev

The JSON maps each file's path in models.dev to its text, verbatim: every provider's files
(the snapshot in ../shared/catalogs holds the 15 providers this registry shares with
models.dev), and the `models/` files they inherit from through `base_model`.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path


def snapshot(root: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for path in sorted((root / "providers").rglob("*.toml")):
        files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    bases = {
        tomllib.loads(text).get("base_model")
        for name, text in files.items()
        if "/models/" in name
    }
    for base in sorted(b for b in bases if b):
        path = root / "models" / f"{base}.toml"
        files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return files


if __name__ == "__main__":
    target = Path(__file__).with_name("models-dev.json")
    target.write_text(json.dumps(snapshot(Path(sys.argv[1])), indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}")
