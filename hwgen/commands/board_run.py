"""`hwgen board-run RUN --port /dev/ttyUSB0`: stream the run's test vectors to a board loaded with
the run's UART bitstream and compare its answers with the QKeras logits, bit for bit.

Load the bitstream first (RUN/synth/nextpnr-*/<top>.bin with `iceprog`, <top>.bit with
`openFPGALoader -b ulx3s`). The byte protocol is hwgen.synth.open.uart's (the one the Icarus testbench
checks): per vector the host sends ceil(in_width/8) bytes, little endian, and reads
ceil(out_width/8) bytes back. A missing or short answer counts as a mismatch; the host then
pauses longer than the wrapper's resynchronization time before the next vector.
Writes RUN/board_run.json. Exit code 0 when every answer is bit-exact, 1 otherwise.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from hwgen.errors import HwgenError

PYSERIAL_HINT = "board-run needs pyserial: pip install pyserial"


def configure(parser) -> None:
    parser.add_argument("run_dir", type=Path, help="hwgen run directory with an open-flow bitstream (RUN/synth/nextpnr-*/)")
    parser.add_argument("--port", required=True, help="serial device of the board's USB-UART, e.g. /dev/ttyUSB0")
    parser.add_argument("--baud", type=int, default=None, help="baud rate (default: the one the bitstream was built for)")
    parser.add_argument("--samples", type=int, default=None, help="number of test vectors (default: all in RUN/train/data.npz)")
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for each answer (default 1)")


def placed_uart(run_dir: Path) -> dict:
    """The UART settings the run's bitstream was built with (from RUN/synth/nextpnr-*.json)."""
    from hwgen.results import read_synth_results

    for r in read_synth_results(run_dir):
        if r.kind == "placed" and (r.details or {}).get("uart"):
            return {**r.details["uart"], "bitstream": (r.details.get("bitstream") or {}).get("file"), "source": r.source}
    raise HwgenError(
        f"{run_dir} has no UART bitstream; build one with `hwgen flow SPEC --synth open --board icebreaker-up5k` "
        "(or ulx3s-85f)"
    )


def load_vectors(run_dir: Path, samples: int | None):
    """(design, X, logits) of the run, X on the design's input grid."""
    from hwgen.synth.open.verilog import RtlDesign
    from hwgen.rundir import RunPaths

    rtl = Path(run_dir) / "rtl"
    if not (rtl / "design.json").is_file():
        raise HwgenError(f"{rtl / 'design.json'} is missing; run the open flow first")
    design = RtlDesign.load(rtl)
    data_path = RunPaths(run_dir).data
    if not data_path.is_file():
        raise HwgenError(f"{data_path} is missing; train the model first (`hwgen flow`)")
    with np.load(data_path, allow_pickle=False) as npz:
        if "X_test" not in npz.files or "logits_qkeras" not in npz.files:
            raise HwgenError(f"{data_path} lacks X_test or logits_qkeras")
        X, logits = npz["X_test"], npz["logits_qkeras"]
    n = len(X) if samples is None else int(samples)
    if n <= 0:
        raise HwgenError("--samples must be positive")
    n = min(n, len(X))
    return design, np.asarray(X[:n], dtype=np.float64), np.asarray(logits[:n], dtype=np.float64).reshape(n, -1)


def exchange(port, frames: list[bytes], out_bytes: int, *, resync_s: float, progress=None) -> list[bytes | None]:
    """Send each frame and read its answer (stop-and-wait); a short answer is None, then pause and flush.

    `port` is anything with write(bytes) and read(n) -> bytes that returns early on its timeout
    (a pyserial Serial).
    """
    answers: list[bytes | None] = []
    for i, frame in enumerate(frames):
        port.write(frame)
        got = port.read(out_bytes)
        if len(got) != out_bytes:
            answers.append(None)
            time.sleep(resync_s)
            reset = getattr(port, "reset_input_buffer", None)
            if reset:
                reset()
        else:
            answers.append(bytes(got))
        if progress and (i + 1) % 50 == 0:
            progress(f"board-run: {i + 1}/{len(frames)} vectors")
    return answers


def compare(design, answers: list[bytes | None], logits: np.ndarray, cfg: dict) -> dict:
    from hwgen.synth.open.trace import compare_outputs
    from hwgen.synth.open.uart import decode_replies

    got = decode_replies(answers, design.outputs_pipe, int(cfg["out_bytes"]))
    stats = compare_outputs(got, logits)
    stats["missing_answers"] = int(sum(a is None for a in answers))
    return stats


def main(args) -> int:
    from hwgen.results import write_json
    from hwgen.synth.open.uart import IDLE_BITS, encode_frames

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise HwgenError(f"{run_dir} is not a run directory")
    cfg = placed_uart(run_dir)
    design, X, logits = load_vectors(run_dir, args.samples)
    if int(cfg["in_width"]) != design.in_width or int(cfg["out_bytes"]) != -(-design.out_width("pipe") // 8):
        raise HwgenError("the bitstream's UART frame sizes do not match RUN/rtl/design.json; rebuild the bitstream")
    baud = int(args.baud or cfg["baud"])
    if args.timeout <= 0:
        raise HwgenError("--timeout must be positive")
    frames = encode_frames(X, design.inputs, int(cfg["in_bytes"]))
    try:
        import serial  # pyserial
    except ImportError:
        raise HwgenError(PYSERIAL_HINT) from None
    try:
        port = serial.Serial(args.port, baudrate=baud, bytesize=8, parity="N", stopbits=1, timeout=float(args.timeout))
    except (serial.SerialException, ValueError) as exc:
        raise HwgenError(f"cannot open {args.port}: {exc}") from None
    resync = 2.0 * IDLE_BITS / baud + 0.01
    t0 = time.monotonic()
    with port:
        time.sleep(resync)  # let a partial frame from an earlier session expire
        port.reset_input_buffer()
        answers = exchange(port, frames, int(cfg["out_bytes"]), resync_s=resync, progress=lambda m: print(m, file=sys.stderr))
    wall = time.monotonic() - t0
    stats = compare(design, answers, logits, cfg)
    record = {
        **stats,
        "port": args.port,
        "baud": baud,
        "bitstream": cfg.get("bitstream"),
        "placed_source": cfg.get("source"),
        "wall_s": round(wall, 3),
        "vectors_per_s": round(len(frames) / wall, 2) if wall > 0 else None,
        "reference": "logits_qkeras of RUN/train/data.npz",
    }
    write_json(run_dir / "board_run.json", record)
    frac = stats["bit_exact_fraction"]
    print(
        f"board-run: {frac:.1%} of {stats['n_samples']} answers bit-exact with QKeras "
        f"({stats['missing_answers']} missing, max |diff| {stats['max_abs_diff']:g}) in {wall:.1f} s; wrote {run_dir / 'board_run.json'}"
    )
    return 0 if frac == 1.0 else 1
