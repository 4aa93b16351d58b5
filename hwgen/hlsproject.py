"""Keep file-system paths out of the generated HLS project.

hls4ml's `build_lib.sh` passes the weights directory to g++ as a string macro,
`-D WEIGHTS_DIR="\"$BASEDIR/firmware/weights\""`, so the run folder's path becomes part of the
C++ source: a `"` in `--out` breaks the C-simulation build and a crafted path injects code
into the library hwgen then loads. The compiled library also kept the path of the staging
folder the run was built in, which no longer exists after the run is moved into place, and
`hls4ml_config.yml` recorded that staging folder too.

`make_paths_safe` rewrites the project so no path is pasted anywhere: the weights directory is
found at run time, next to the loaded library (`dladdr`), and `hls4ml_config.yml` names the
project folder and the Keras copy relative to itself. `link_project` opens such a project
with its real location (what `hls4ml.converters.link_existing_project` would take from
`OutputDir`).
"""

from __future__ import annotations

import re
from pathlib import Path

from hwgen.errors import HwgenError

WEIGHTS_HEADER = "hwgen_weights_dir.h"
_HEADER = """// Written by hwgen: the C-simulation library finds its weights next to itself at run time, so no
// file-system path is pasted into the C++ source (see hwgen/hlsproject.py).
#ifndef HWGEN_WEIGHTS_DIR_H_
#define HWGEN_WEIGHTS_DIR_H_
#ifndef __SYNTHESIS__
#include <dlfcn.h>
#include <string>

static inline std::string hwgen_weights_dir() {
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&hwgen_weights_dir), &info) && info.dli_fname) {
        std::string lib(info.dli_fname);
        std::string::size_type slash = lib.rfind('/');
        return (slash == std::string::npos ? std::string(".") : lib.substr(0, slash)) + "/weights";
    }
    return "firmware/weights";
}
#endif
#endif
"""
_DEFINE = re.compile(r'-D\s*WEIGHTS_DIR="\$\{WEIGHTS_DIR\}"')
_ASSIGN = re.compile(r'^\s*WEIGHTS_DIR=.*\n', re.M)
_SAFE_DEFINE = f"-include firmware/{WEIGHTS_HEADER} -D 'WEIGHTS_DIR=hwgen_weights_dir()'"
# Generated sources and scripts that must never hold the project's path.
_CHECKED_SUFFIXES = (".sh", ".tcl", ".cpp", ".h", ".hpp", ".txt", ".yml", ".yaml")


def make_paths_safe(project_dir: Path) -> None:
    """Rewrite an hls4ml project written into `project_dir` so that its path reaches no generated
    file (see the module docstring). Raises HwgenError if a path is left anywhere."""
    project_dir = Path(project_dir)
    script = project_dir / "build_lib.sh"
    if script.is_file():
        text = script.read_text()
        if "WEIGHTS_DIR" in text:
            new = _ASSIGN.sub("", _DEFINE.sub(_SAFE_DEFINE, text))
            if "${WEIGHTS_DIR}" in new or _SAFE_DEFINE not in new:
                raise HwgenError(f"{script}: unexpected hls4ml build script layout; cannot keep paths out of the C++ build")
            (project_dir / "firmware").mkdir(exist_ok=True)
            (project_dir / "firmware" / WEIGHTS_HEADER).write_text(_HEADER)
            script.write_text(new)
    config = project_dir / "hls4ml_config.yml"
    if config.is_file():
        # Top-level scalars; a long value continues on indented lines, which go with it.
        replace = {"OutputDir:": "OutputDir: .\n", "KerasModel:": "KerasModel: !keras_model 'keras_model.keras'\n"}
        out: list[str] = []
        skipping = False
        for line in config.read_text().splitlines(keepends=True):
            if skipping and line[:1] in (" ", "\t"):
                continue
            skipping = False
            key = next((k for k in replace if line.startswith(k)), None)
            if key:
                out.append(replace[key])
                skipping = True
            else:
                out.append(line)
        config.write_text("".join(out))
    left = paths_left(project_dir)
    if left:
        raise HwgenError(f"{project_dir}: the project's path is still written in {', '.join(left[:5])}")


def paths_left(project_dir: Path) -> list[str]:
    """Generated files (relative names) that still contain the project folder's path."""
    project_dir = Path(project_dir)
    needles = {str(project_dir).encode(), str(project_dir.resolve()).encode()}
    hits = []
    for path in sorted(project_dir.rglob("*")):
        if path.is_file() and path.suffix in _CHECKED_SUFFIXES:
            data = path.read_bytes()
            if any(n in data for n in needles):
                hits.append(path.relative_to(project_dir).as_posix())
    return hits


def link_project(project_dir: Path):
    """`hls4ml.converters.link_existing_project`, at the folder's real location (the project's
    hls4ml_config.yml names itself relatively)."""
    import hls4ml

    project_dir = Path(project_dir).resolve()
    project = hls4ml.converters.link_existing_project(str(project_dir))
    project.config.config["OutputDir"] = str(project_dir)
    return project
