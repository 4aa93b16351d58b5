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
    from hwgen.report import summary_lines, write_report
    from hwgen.rundir import existing_run

    paths = existing_run(path)
    report = write_report(paths.root)
    print("\n".join(summary_lines(report)))
    print(f"  wrote {paths.root / 'report.json'}, report.md, report.html")
    return 0
