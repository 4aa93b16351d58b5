"""What every stage is handed: the options of a run and one frozen `RunContext`.

Stages read their settings from the context and never re-default them: a value the user did
not give is resolved once, here or by the runner, before the first stage runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwgen.boards import Board
from hwgen.errors import HwgenError
from hwgen.progress import Progress
from hwgen.rundir import RunPaths
from hwgen.spec import ModelSpec

SYNTH_CHOICES = ("auto", "open", "vendor", "estimate", "none")
DEFAULT_BOARD = "pynq-z2"


@dataclass(frozen=True)
class FlowOptions:
    """Everything about a run that is not the model spec. The fingerprint of a run covers
    these except where the output goes, how it is shown and whether code may run."""

    board: str = DEFAULT_BOARD
    out: Path | None = None
    force: bool = False
    untrained: bool = False
    data_path: str | None = None
    synth: tuple[str, ...] = ("auto",)
    baseline: bool = True
    until: str = "report"  # stop after 'convert' or 'csim' for `hwgen convert`
    clock_mhz: float | None = None
    rtl_max_samples: int = 300
    tool_timeout_s: float = 3600.0
    baseline_reps: int = 100
    model_file: str | None = None
    trust_model_code: bool = False
    fold_batchnorm: bool = False
    quiet: bool = False
    # The tool whose reports the estimate predicts ('vitis_hls', 'vivado_hls-2019.2', ...);
    # None: the family of the hls4ml backend the project was converted with.
    estimate_tool: str | None = None
    html: bool = True  # report.html and plots (a sweep point leaves them to `hwgen report`)
    # A sweep point: the folder of the trained model its training key shares (its train/ is
    # copied in instead of training again). Not in the fingerprint: the sweep gives its own.
    trained_from: str | None = None

    def fingerprint_fields(self) -> dict:
        d = dataclasses.asdict(self)
        for key in ("out", "force", "quiet", "trust_model_code", "html", "trained_from"):
            d.pop(key)
        if d["estimate_tool"] is None:
            d.pop("estimate_tool")  # runs made before the option keep their fingerprint
        for key in ("data_path", "model_file"):
            if d[key]:
                d[key] = file_sha256(Path(d[key]))
        return d

    def to_manifest(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}


def file_sha256(path: Path) -> str:
    if not path.is_file():
        raise HwgenError(f"file {path} does not exist")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class RunContext:
    """One run as the stages see it. `paths` is the staging folder while a new run is built
    (moved into place when it succeeds) or the run folder itself for a stage added later."""

    spec: ModelSpec
    board: Board
    options: FlowOptions
    paths: RunPaths
    fingerprint: str
    synth_sources: tuple[str, ...] = ()
    progress: Progress = field(default_factory=lambda: Progress(0, quiet=True), compare=False)
    # One-line notices for the user (shown in the summary, kept in run.json): the context is
    # frozen, these two collectors are what the stages add to.
    notices: list[str] = field(default_factory=list, compare=False)
    # Stage results of this run so far, by stage name (filled by the runner).
    results: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def run_dir(self) -> Path:
        return self.paths.root

    def notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)
