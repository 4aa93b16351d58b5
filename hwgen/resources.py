"""Locate the data shipped with hwgen (model zoo, board registry, simulation sources).

In a source checkout they are the top-level `models/`, `boards/` and `sim/` folders; an
installed wheel carries the same files as the packages `hwgen.zoo`, `hwgen.boardspecs` and
`hwgen.simsrc` (see pyproject.toml).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent
_MAP = {"models": "hwgen.zoo", "boards": "hwgen.boardspecs", "sim": "hwgen.simsrc"}


def data_dir(kind: str) -> Path:
    """Directory holding the shipped `kind` files ('models', 'boards' or 'sim')."""
    local = _REPO_ROOT / kind
    if local.is_dir() and (_REPO_ROOT / "pyproject.toml").is_file():
        return local
    return Path(str(importlib.resources.files(_MAP[kind])))
