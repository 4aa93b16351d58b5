"""`hwgen report DIR`: regenerate report.json/.md/.html of a run directory (or a sweep's)."""

from __future__ import annotations

from pathlib import Path

from hwgen.errors import HwgenError


def configure(p) -> None:
    p.add_argument("run_dir", help="a run directory made by `hwgen flow` (or a sweep directory)")


def main(args) -> int:
    path = Path(args.run_dir)
    if (path / "sweep.json").is_file() or (path / "sweep.yaml").is_file():
        try:
            from hwgen.sweep import write_sweep_report
        except ModuleNotFoundError:
            raise HwgenError("sweep reports are not available in this build") from None
        out = write_sweep_report(path)
        print(f"sweep report: {out}")
        return 0
    from hwgen.pipeline import run_on_existing
    from hwgen.report import summary_lines

    result = run_on_existing(path, ["report"], options={"html": True}, quiet=True)
    print("\n".join(summary_lines(result.report)))
    print(f"  wrote {result.run_dir / 'report.json'}, report.md, report.html")
    return 0
