"""`hwgen` command line. Each sub-command lives in its own module that defines
`configure(parser)` and `main(args) -> int`; this file only dispatches, so adding a command
means adding one line to COMMANDS.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import warnings

from hwgen import __version__
from hwgen.errors import HwgenError, os_error_message


class Terminated(KeyboardInterrupt):
    """SIGTERM (what `timeout` and `kill` send), handled like Ctrl-C: staging folders are removed."""


def _on_sigterm(signum, frame):  # pragma: no cover - exercised by the fault tests in a subprocess
    raise Terminated()

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "flow": ("hwgen.commands.flow", "train, generate, simulate, synthesize and report a model spec"),
    "convert": ("hwgen.commands.convert", "generate the HLS project (and C-sim) only; --untrained builds without data"),
    "inspect": ("hwgen.commands.inspect", "show per layer how a QKeras model file becomes hardware, or why it cannot"),
    "models": ("hwgen.commands.listing", "list the model zoo"),
    "boards": ("hwgen.commands.listing", "list the board registry"),
    "report": ("hwgen.commands.report", "regenerate report.json/.md/.html of a run (or sweep) directory"),
    "synth": ("hwgen.commands.synth", "synthesize a run: --open (Yosys/nextpnr/RTL sim) or --vendor (Vitis/Vivado)"),
    "parse-report": ("hwgen.commands.parse_report", "read a vendor synthesis report into one normalized record"),
    "estimate": ("hwgen.commands.estimate", "estimate resources and latency of an hls4ml project without vendor tools"),
    "baseline": ("hwgen.commands.baseline", "time the same network in software on CPU (and GPU when visible)"),
    "sweep": ("hwgen.commands.sweep", "design-space exploration over bits x sparsity x reuse x strategy"),
    "board-run": ("hwgen.commands.board_run", "stream a run's test vectors to a board loaded with its UART bitstream; compare with QKeras"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hwgen", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"hwgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # command not built yet in this checkout
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure = getattr(module, f"configure_{name.replace('-', '_')}", None) or module.configure
        configure(p)
        p.set_defaults(_main=getattr(module, f"main_{name.replace('-', '_')}", None) or module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Keras/QKeras serialization chatter says nothing a user can act on.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\..*)?")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_main", None):
        parser.print_help()
        return 2
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        return int(args._main(args) or 0)
    except HwgenError as exc:
        print(f"hwgen: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and friends
        sys.stderr.close()
        return 0
    except OSError as exc:  # disk full, permission denied, read-only, name too long, ...
        print(f"hwgen: error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except Terminated:
        print("hwgen: terminated (SIGTERM); nothing half-written was left behind", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("hwgen: interrupted", file=sys.stderr)
        return 130
    finally:
        if main_thread and previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
