"""`hwgen models` and `hwgen boards`: the zoo and the board registry as tables."""

from __future__ import annotations

import json


def configure(p) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def main_models(args) -> int:
    from hwgen.spec import list_zoo

    specs = list_zoo()
    if args.json:
        print(json.dumps([s.to_dict() for s in specs], indent=2))
        return 0
    rows = []
    for s in specs:
        dense = [str(layer.units or layer.filters) for layer in s.layers if layer.type in ("dense", "conv2d")]
        bits = sorted({layer.weight.bits for layer in s.layers if layer.weight})
        rows.append([s.name, s.dataset.name, "x".join(map(str, s.input_shape)) + "->" + "->".join(dense), "/".join(map(str, bits)), f"{s.pruning.target_sparsity:.0%}", s.hls.strategy])
    print(_table(rows, ["model", "dataset", "layers", "w bits", "sparsity", "strategy"]))
    return 0


def main_boards(args) -> int:
    from hwgen.boards import list_boards

    boards = list_boards()
    if args.json:
        print(json.dumps([b.to_dict() for b in boards], indent=2))
        return 0
    rows = []
    for b in boards:
        c = b.capacity
        if b.vendor == "lattice":
            res = [f"{c.get('lut4', 0):,} LUT4", f"{c.get('ff', 0):,}", f"{c.get('mult18', 0)} MULT18", f"{c.get('ebr', 0)} EBR", "-"]
        else:
            res = [f"{c.get('lut', 0):,}", f"{c.get('ff', 0):,}", f"{c.get('dsp', 0):,}", f"{c.get('bram_18k', 0):,} ({c.get('bram_36k', 0):,})", f"{c.get('uram', 0):,}"]
        rows.append([b.name, b.vendor, b.family, b.part, *res, f"{b.clock_mhz:g}"])
    print(_table(rows, ["board", "vendor", "family", "part", "LUT", "FF", "DSP", "BRAM18K (36K)", "URAM", "MHz"]))
    return 0


configure_models = configure_boards = configure
