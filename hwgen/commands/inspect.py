"""`hwgen inspect MODEL.h5`: one row per layer — class, quantizers, the hls4ml precisions hwgen
will use, whether the C-sim and the open RTL paths take it, and why not.

Nothing is trained or compiled: the model is checked (no code from the file runs unless
--trust-model-code), rebuilt into its hardware form (`hwgen.hwform`) and converted by hls4ml
into a temporary folder only to read the precisions it infers.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hwgen.errors import HwgenError


def configure(parser) -> None:
    parser.add_argument("model_file", type=Path, help="a QKeras/Keras model (.h5 or .keras)")
    parser.add_argument("--input-bits", type=int, default=16, help="input fixed-point width (default 16)")
    parser.add_argument("--input-integer", type=int, default=5, help="input integer bits, sign excluded (default 5)")
    parser.add_argument("--backend", default="Vitis", choices=["Vitis", "Vivado"], help="hls4ml backend (default Vitis)")
    parser.add_argument("--trust-model-code", action="store_true", help="allow Lambda layers / custom objects (runs code from the file)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")


def inspect_model(path: Path, input_bits: int = 16, input_integer: int = 5, backend: str = "Vitis", trust_code: bool = False) -> dict:
    from hwgen.hwform import hardware_form, logits_model
    from hwgen.modelio import load_model
    from hwgen.spec import Precision, ap_fixed

    model = load_model(path, trust_code=trust_code)
    stripped, final = logits_model(model)
    form = hardware_form(stripped)
    rows = form.rows
    if final:
        rows = rows + [_final_row(model, final)]
    precisions: dict[str, dict] = {}
    if form.model is not None:
        precisions = _hls_precisions(form, ap_fixed(Precision(input_bits, input_integer)), backend)
        for row in rows:
            for hw_name in row.hw_layers:
                for key, val in precisions.get(hw_name, {}).items():
                    row.precisions[key if hw_name == row.name else f"{hw_name}.{key}"] = val
    return {
        "model": str(path),
        "input": precisions.get(form.input_name, {}).get("result"),
        "final_activation": final,
        "csim": "refused" if form.refusals else ("measured" if form.measured_only else "bit-exact"),
        "rtl": "refused" if form.rtl_blockers else "bit-exact",
        "layers": [r.to_dict() for r in rows],
    }


def _final_row(model, final):
    from hwgen.hwform import LayerRow

    last = model.layers[-1]
    return LayerRow(name=last.name, cls=type(last).__name__, rewritten=f"final {final} left out: logits compared")


def _hls_precisions(form, input_type: str, backend: str) -> dict[str, dict]:
    import hls4ml

    from hwgen.convert import HlsOptions, build_config

    cfg = build_config(form.model, HlsOptions(backend=backend), input_type, form)
    with tempfile.TemporaryDirectory(prefix="hwgen-inspect-") as tmp:
        try:
            hls_model = hls4ml.converters.convert_from_keras_model(
                form.model, hls_config=cfg, output_dir=tmp, backend=backend, io_type="io_parallel")
        except Exception as exc:  # noqa: BLE001 - hls4ml reports problems as assorted exceptions
            raise HwgenError(f"hls4ml could not convert the hardware form: {type(exc).__name__}: {exc}") from None
        out: dict[str, dict] = {}
        for layer in hls_model.get_layers():
            entry = {"result": str(layer.get_output_variable().type.precision)}
            for var_name, var in getattr(layer, "weights", {}).items():
                entry[var_name] = str(var.type.precision)
            accum = layer.get_attr("accum_t")
            if accum is not None:
                entry["accum"] = str(accum.precision)
            out[layer.name] = entry
    return out


def _table(info: dict) -> str:
    head = ["layer", "class", "quantizers", "hls4ml precisions", "C-sim", "RTL", "notes"]
    body = []
    for r in info["layers"]:
        quant = " ".join(f"{k}={v}" for k, v in r["quantizers"].items()) or "-"
        prec = " ".join(f"{k}={v}" for k, v in r["precisions"].items()) or "-"
        notes = "; ".join(x for x in (r["rewritten"], r["why"]) if x) or ""
        body.append([r["name"], r["cls"], quant, prec, r["csim"], r["rtl"], notes])
    widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h) for i, h in enumerate(head)]
    widths = [min(w, 48) for w in widths[:-1]] + [0]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    for row in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    lines.append("")
    lines.append(f"input {info['input'] or '-'}; final activation: {info['final_activation'] or 'none'}; "
                 f"C-sim path: {info['csim']}; open RTL path: {info['rtl']}")
    return "\n".join(lines)


def main(args) -> int:
    info = inspect_model(args.model_file, args.input_bits, args.input_integer, args.backend, args.trust_model_code)
    print(json.dumps(info, indent=2) if args.json else _table(info))
    return 0
