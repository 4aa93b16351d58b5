"""What hwgen takes to hardware: one table of layers and quantizers.

The same table drives the refusals (`hwgen.hwform`), `hwgen inspect`, and the README section
"Supported layers and quantizers" (`python -m hwgen.support --markdown` regenerates it; a test
checks that the README matches). "C-sim" means the hls4ml project, compiled by g++, computes
the QKeras logits bit for bit; "RTL" means the open path (da4ml → Verilog → Icarus) does too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerSupport:
    csim: str  # "exact" | "measured" (run, agreement reported, not guaranteed) | "conditional" | "no"
    rtl: bool
    note: str


LAYERS: dict[str, LayerSupport] = {
    "QDense": LayerSupport("exact", True, "kernel/bias quantizers below; activation inside the layer split out"),
    "Dense": LayerSupport("conditional", True, "only with weights already on a fixed-point grid (<=16 fraction bits); use QDense"),
    "QConv1D": LayerSupport("exact", False, "channels_last, no dilation"),
    "Conv1D": LayerSupport("conditional", False, "as Dense: weights on a fixed-point grid; use QConv1D"),
    "QConv2D": LayerSupport("exact", True, "channels_last, no dilation, any stride, 'valid' or 'same'"),
    "Conv2D": LayerSupport("conditional", True, "as Dense: weights on a fixed-point grid; use QConv2D"),
    "QDepthwiseConv2D": LayerSupport("exact", False, "depth_multiplier=1"),
    "DepthwiseConv2D": LayerSupport("conditional", False, "as Dense; use QDepthwiseConv2D"),
    "QSeparableConv2D": LayerSupport("exact", False, "split into depthwise + 1x1 convolution (what QKeras computes); depth_multiplier=1"),
    "QSeparableConv1D": LayerSupport("exact", False, "as QSeparableConv2D"),
    "QConv2DBatchnorm": LayerSupport("exact", True, "batch norm folded into the quantized weights exactly as QKeras does at inference; needs a bias_quantizer"),
    "QDepthwiseConv2DBatchnorm": LayerSupport("exact", False, "as QConv2DBatchnorm"),
    "BatchNormalization": LayerSupport("measured", False, "float32 in QKeras: run with 24-bit scale/offset, agreement measured and reported, never called bit-exact; --fold-batchnorm makes it exact"),
    "QBatchNormalization": LayerSupport("measured", False, "as BatchNormalization (QKeras still computes it in float32)"),
    "QActivation": LayerSupport("exact", True, "quantized_relu (no leak), quantized_bits(alpha=1), binary, ternary (not directly after binary/ternary weights); 'relu'/'linear'"),
    "Activation": LayerSupport("exact", True, "relu, linear; softmax/sigmoid only as the last layer (left out, logits compared)"),
    "ReLU": LayerSupport("exact", True, "plain ReLU (no max_value/negative_slope/threshold)"),
    "Softmax": LayerSupport("exact", True, "only as the last layer: left out, logits compared"),
    "MaxPooling1D": LayerSupport("exact", False, ""),
    "MaxPooling2D": LayerSupport("exact", True, ""),
    "AveragePooling1D": LayerSupport("conditional", False, "pool size a power of two, padding='valid'"),
    "AveragePooling2D": LayerSupport("conditional", False, "pool area a power of two, padding='valid'"),
    "GlobalMaxPooling1D": LayerSupport("exact", False, "keepdims=False"),
    "GlobalMaxPooling2D": LayerSupport("exact", False, "keepdims=False"),
    "GlobalAveragePooling1D": LayerSupport("conditional", False, "number of positions a power of two"),
    "GlobalAveragePooling2D": LayerSupport("conditional", False, "number of positions a power of two"),
    "Flatten": LayerSupport("exact", True, ""),
    "Reshape": LayerSupport("exact", True, ""),
    "Dropout": LayerSupport("exact", True, "removed (identity at inference)"),
    "ZeroPadding1D": LayerSupport("exact", False, ""),
    "ZeroPadding2D": LayerSupport("exact", False, ""),
    "Add": LayerSupport("exact", False, "functional models"),
    "Concatenate": LayerSupport("exact", False, "functional models"),
}

# Original layer classes whose hardware form the open RTL tracer (hwgen.synth.open.trace) takes.
RTL_LAYERS = frozenset(name for name, s in LAYERS.items() if s.rtl) | {"InputLayer"} | {"SpatialDropout1D", "SpatialDropout2D"}

WEIGHT_QUANTIZERS: dict[str, str] = {
    "quantized_bits": "bits 2-32, any integer bits; alpha=1 (taken as declared) or alpha='auto_po2' (per-channel powers of two, exact grid derived); alpha='auto' refused (float32 scales)",
    "quantized_po2": "exact grid derived from the values (powers of two)",
    "binary": "alpha=1: weights ±1",
    "ternary": "alpha=1: weights -1, 0, +1",
    "stochastic_binary / stochastic_ternary": "refused: random at inference",
}

ACTIVATION_QUANTIZERS: dict[str, str] = {
    "quantized_relu": "bits, integer bits (with and without); negative_slope=0, use_sigmoid=0",
    "quantized_bits": "alpha=1",
    "binary / ternary": "alpha=1",
    "quantized_tanh / quantized_sigmoid": "refused: QKeras uses float32 tanh/sigmoid, hls4ml a sampled table",
}

_HINTS = {
    "Lambda": "Lambda layers run Python code and cannot become hardware; rewrite them as Keras/QKeras layers",
    "LSTM": "recurrent layers are not supported by hwgen; use Dense/Conv layers",
    "GRU": "recurrent layers are not supported by hwgen; use Dense/Conv layers",
    "SimpleRNN": "recurrent layers are not supported by hwgen; use Dense/Conv layers",
    "LeakyReLU": "LeakyReLU multiplies by a float slope; use QActivation(quantized_relu(...))",
    "PReLU": "PReLU has float slopes; use QActivation(quantized_relu(...))",
    "UpSampling2D": "UpSampling2D is not in hwgen's supported surface yet",
    "Conv2DTranspose": "transposed convolutions are not supported by hls4ml",
    "Embedding": "Embedding is not in hwgen's supported surface",
    "Multiply": "Multiply of two tensors is not in hwgen's supported surface",
}


def unsupported_hint(cls: str) -> str:
    if cls in _HINTS:
        return _HINTS[cls]
    if cls in LAYERS and LAYERS[cls].csim == "no":
        return LAYERS[cls].note
    return (f"{cls} is not a layer hwgen takes to hardware; supported: "
            + ", ".join(sorted(k for k, v in LAYERS.items() if v.csim != "no")))


_CSIM_WORDS = {"exact": "bit-exact", "measured": "runs, agreement measured (not guaranteed)", "conditional": "bit-exact when the condition holds, else refused", "no": "refused"}


def markdown_table() -> str:
    """The README section body, generated from the tables above."""
    lines = [
        "| layer | C-sim (hls4ml + g++) | open RTL path | conditions |",
        "|---|---|---|---|",
    ]
    for name, s in LAYERS.items():
        lines.append(f"| `{name}` | {_CSIM_WORDS[s.csim]} | {'bit-exact' if s.rtl else 'refused (flow goes on)'} | {s.note} |")
    lines += ["", "| weight quantizer | handling |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in WEIGHT_QUANTIZERS.items()]
    lines += ["", "| activation quantizer | handling |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in ACTIVATION_QUANTIZERS.items()]
    lines += ["", "Any other layer class is refused before any work starts, with the layer's name and what to use instead."]
    return "\n".join(lines)


README_BEGIN = "<!-- support-table:begin (generated by `python -m hwgen.support --markdown`) -->"
README_END = "<!-- support-table:end -->"


def render_readme(text: str) -> str:
    """README text with the generated section replaced."""
    head, sep, rest = text.partition(README_BEGIN)
    if not sep:
        raise ValueError("README has no support-table marker")
    _, sep2, tail = rest.partition(README_END)
    if not sep2:
        raise ValueError("README has no support-table end marker")
    return f"{head}{README_BEGIN}\n{markdown_table()}\n{README_END}{tail}"


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    import sys
    from pathlib import Path

    if "--write-readme" in sys.argv:
        readme = Path(__file__).resolve().parent.parent / "README.md"
        readme.write_text(render_readme(readme.read_text()))
    else:
        print(markdown_table())
