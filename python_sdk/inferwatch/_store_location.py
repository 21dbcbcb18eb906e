"""Which store a process uses, found as git finds its repository.

The app (through `init`) and every `inferwatch` command resolve the default store the same
way, so that an app started in `project/backend/` and a dashboard started in `project/` agree:

1. `INFERWATCH_STORE`, when set;
2. else `events.db` in the nearest `.inferwatch/` folder, in the current folder or a parent;
3. else `.inferwatch/events.db` in the current folder (created on the first write).

The path is always absolute, so what is printed at start-up names one file wherever it is read.

>>> default_store({"INFERWATCH_STORE": "/srv/iw/events.db"})
PosixPath('/srv/iw/events.db')
"""

from __future__ import annotations

import os
from pathlib import Path

from ._types import Environ

FOLDER = ".inferwatch"
FILE = "events.db"


def default_store(environ: Environ, cwd: Path | None = None) -> Path:
    """The store to use when none is given: see the module's docstring for the order."""
    here = absolute(cwd or Path.cwd())
    given = environ.get("INFERWATCH_STORE")
    if given:
        return absolute(here / os.path.expanduser(given))
    for folder in (here, *here.parents):
        if (folder / FOLDER).is_dir():
            return folder / FOLDER / FILE
    return here / FOLDER / FILE


def absolute(path: str | os.PathLike[str]) -> Path:
    """`path` made absolute against the current folder, `..` folded, symlinks left as they are
    (the path people wrote is the one they recognise when it is printed)."""
    return Path(os.path.abspath(path))


# Folders never searched for other stores: they hold dependencies, not projects.
_SKIPPED = frozenset({"node_modules", "site-packages", "__pycache__", "venv", "env"})
SEARCH_DEPTH = 3
SEARCH_FOLDERS = 2_000  # the most folders one search looks into, however large the tree


def nearby_stores(store: Path, cwd: Path | None = None) -> list[Path]:
    """Other stores near `store`, which an app may be writing to instead (sorted).

    Nearby means `.inferwatch/events.db` in any parent folder of the store's project folder
    (the one holding its `.inferwatch/`) or of the current folder, or in a folder at most three
    levels below either one's parent: their siblings (`backend/` beside `frontend/`), the
    siblings' subfolders, and their own subfolders two levels deep. Hidden folders, virtualenvs
    and `node_modules` are skipped, and each search stops after 2,000 folders.
    """
    store = absolute(store)
    project = store.parent.parent if store.parent.name == FOLDER else store.parent
    found: set[Path] = set()
    for root in {project, absolute(cwd or Path.cwd())}:
        found.update(_in_parents(root))
        found.update(_below(root.parent))
    found.discard(store)
    return sorted(found)


def _in_parents(folder: Path) -> list[Path]:
    candidates = (parent / FOLDER / FILE for parent in (folder, *folder.parents))
    return [path for path in candidates if path.is_file()]


def _below(top: Path) -> list[Path]:
    """Stores in `top` and the folders up to `SEARCH_DEPTH` levels below it, breadth first."""
    found: list[Path] = []
    level, visited = [top], 0
    for _ in range(SEARCH_DEPTH + 1):
        deeper: list[Path] = []
        for folder in level:
            visited += 1
            if visited > SEARCH_FOLDERS:
                return found
            if (folder / FOLDER / FILE).is_file():
                found.append(folder / FOLDER / FILE)
            deeper.extend(_subfolders(folder))
        level = deeper
    return found


def _subfolders(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            names = [
                entry.name
                for entry in entries
                if entry.is_dir(follow_symlinks=False)
                and not entry.name.startswith(".")
                and entry.name not in _SKIPPED
            ]
    except OSError:  # unreadable (another user's folder), or gone meanwhile
        return []
    return [folder / name for name in sorted(names)]
