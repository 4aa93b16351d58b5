"""Generated QKeras models across the layer and quantizer surface hwgen claims (issue 11).

Each case is built the way hls4ml's tutorials and tests write models (Sequential with and
without an Input, functional, activations inside layers, folded batch norm, ...) with seeded
random weights, and comes with test inputs on the input fixed-point grid. `expect` says what
the flow must do: "exact" (C-sim bit-exact 1.0), "measured" (runs; agreement reported, not
called bit-exact), or "refused:<words>" (exit 2 before any heavy work, message containing the
words). `rtl` says what the open RTL path must do ("exact" or "refused").

The default suite runs the cases with `default=True`; `make test-slow` runs them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

INPUT_BITS, INPUT_INTEGER = 10, 3  # QKeras convention (sign excluded) -> ap_fixed<10,4>


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable  # (tf, qkeras) -> keras Model
    shape: tuple
    expect: str = "exact"
    rtl: str = "auto"  # "exact": the open path must take it; "auto": bit-exact if taken, else refused by name
    io_type: str = "io_parallel"
    strategy: str = "latency"
    default: bool = True
    rtl_in_default: bool = True  # False: the RTL simulation (slow da4ml conv traces) runs in `make test-slow` only
    classes: int = field(default=4)


def grid_inputs(shape, n=96, seed=0) -> np.ndarray:
    """Inputs on ap_fixed<INPUT_BITS, INPUT_INTEGER+1>, spread over most of its range."""
    rng = np.random.default_rng(seed)
    frac = INPUT_BITS - INPUT_INTEGER - 1
    lim = 2 ** (INPUT_BITS - 1)
    ints = rng.integers(-lim // 2, lim // 2, size=(n, *shape))
    return (ints / 2.0**frac).astype(np.float32)


def _qb(bits=6, integer=0, alpha=1, **kw):
    from qkeras import quantized_bits

    return quantized_bits(bits, integer, alpha=alpha, **kw)


def _rand_bias():
    from hwgen.tfcompat import tf

    return tf.keras.initializers.RandomUniform(-0.5, 0.5)


def _dense_model(kq, bq=None, act="quantized_relu(6,2)", seq_input=True, units=(12, 4), n_in=10, final=None):
    def build(tf, qk):
        from qkeras import QActivation, QDense

        layers = []
        if seq_input:
            layers.append(tf.keras.layers.InputLayer((n_in,), name="inp"))
        kw = {} if seq_input else {"input_shape": (n_in,)}
        layers.append(QDense(units[0], kernel_quantizer=kq(), bias_quantizer=(bq or kq)(), bias_initializer=_rand_bias(), name="fc1", **kw))
        layers.append(QActivation(act, name="act1"))
        layers.append(QDense(units[1], kernel_quantizer=kq(), bias_quantizer=(bq or kq)(), bias_initializer=_rand_bias(), name="fc2"))
        if final:
            layers.append(tf.keras.layers.Activation(final, name="final"))
        return tf.keras.Sequential(layers)

    return build


def _conv2d_model(extra: Callable | None = None, io="io_parallel", pool="max", act="quantized_relu(6,2)", filters=4):
    def build(tf, qk):
        from qkeras import QActivation, QConv2D, QDense

        L = tf.keras.layers
        inp = tf.keras.Input((8, 8, 2), name="img")
        x = QConv2D(filters, 3, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), bias_initializer=_rand_bias(), name="conv1")(inp)
        x = QActivation(act, name="act1")(x)
        if extra:
            x = extra(tf, qk, x)
        if pool == "max":
            x = L.MaxPooling2D(2, name="pool")(x)
        elif pool == "avg":
            x = L.AveragePooling2D(2, name="pool")(x)
        x = L.Flatten(name="flat")(x)
        x = QDense(4, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="out")(x)
        return tf.keras.Model(inp, x)

    return build


def _separable1d():
    def build(tf, qk):
        from qkeras import QActivation, QDense, QSeparableConv1D

        L = tf.keras.layers
        inp = tf.keras.Input((16, 3), name="seq")
        x = QSeparableConv1D(4, 3, depthwise_quantizer=_qb(6, 0), pointwise_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0),
                             name="sep")(inp)
        x = QActivation("quantized_relu(6,2)", name="r")(x)
        x = L.Flatten(name="flat")(x)
        return tf.keras.Model(inp, QDense(4, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="out")(x))

    return build


def _conv1d_model(pool="max", sep=False):
    def build(tf, qk):
        from qkeras import QActivation, QConv1D, QDense

        L = tf.keras.layers
        m = tf.keras.Sequential(name="c1d")
        m.add(L.InputLayer((16, 3), name="seq"))
        m.add(QConv1D(4, 3, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), bias_initializer=_rand_bias(), name="conv1"))
        m.add(QActivation("quantized_relu(6,2)", name="act1"))
        if pool == "max":
            m.add(L.MaxPooling1D(2, name="pool"))
        elif pool == "avg":
            m.add(L.AveragePooling1D(2, name="pool"))
        elif pool == "gavg":
            m.add(L.GlobalAveragePooling1D(name="pool"))
        elif pool == "avg3":
            m.add(L.AveragePooling1D(3, name="pool"))
        if pool != "gavg":
            m.add(L.Flatten(name="flat"))
        m.add(QDense(4, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="out"))
        return m

    return build


def _bn_model(kind: str):
    """kind: 'float' (BatchNormalization after QDense), 'qbn' (QBatchNormalization), 'conv_bn'
    (QConv2DBatchnorm), 'dw_bn' (QDepthwiseConv2DBatchnorm)."""

    def build(tf, qk):
        from qkeras import QActivation, QBatchNormalization, QConv2DBatchnorm, QDense, QDepthwiseConv2DBatchnorm

        L = tf.keras.layers
        if kind in ("float", "qbn"):
            inp = tf.keras.Input((10,), name="x")
            x = QDense(12, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="fc1")(inp)
            bn = L.BatchNormalization(name="bn1") if kind == "float" else QBatchNormalization(name="bn1")
            x = bn(x)
            x = QActivation("quantized_relu(6,2)", name="act1")(x)
            x = QDense(4, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="out")(x)
            model = tf.keras.Model(inp, x)
            _randomize_bn(model.get_layer("bn1"))
            return model
        inp = tf.keras.Input((8, 8, 2), name="img")
        if kind == "conv_bn":
            layer = QConv2DBatchnorm(4, 3, kernel_quantizer=_qb(8, 1), bias_quantizer=_qb(10, 3), name="convbn")
        else:
            layer = QDepthwiseConv2DBatchnorm(3, depthwise_quantizer=_qb(8, 1), bias_quantizer=_qb(10, 3), name="convbn")
        x = layer(inp)
        x = QActivation("quantized_relu(6,2)", name="act1")(x)
        x = L.Flatten(name="flat")(x)
        x = QDense(4, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="out")(x)
        model = tf.keras.Model(inp, x)
        _randomize_bn(layer.batchnorm)
        return model

    return build


def _randomize_bn(bn) -> None:
    rng = np.random.default_rng(5)
    n = bn.moving_mean.shape[0]
    weights = []
    for w in bn.weights:
        nm = w.name
        if "gamma" in nm:
            weights.append(rng.uniform(0.5, 1.5, n).astype(np.float32))
        elif "beta" in nm:
            weights.append(rng.uniform(-0.3, 0.3, n).astype(np.float32))
        elif "moving_mean" in nm:
            weights.append(rng.uniform(-0.3, 0.3, n).astype(np.float32))
        elif "moving_variance" in nm:
            weights.append(rng.uniform(0.5, 2.0, n).astype(np.float32))
        else:
            weights.append(np.asarray(w))
    bn.set_weights(weights)


def _depthwise(tf, qk, x):
    from qkeras import QActivation, QDepthwiseConv2D

    x = QDepthwiseConv2D(3, padding="same", depthwise_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="dw")(x)
    return QActivation("quantized_relu(6,2)", name="act_dw")(x)


def _separable(tf, qk, x):
    from qkeras import QActivation, QSeparableConv2D

    x = QSeparableConv2D(4, 3, padding="same", depthwise_quantizer=_qb(6, 0), pointwise_quantizer=_qb(6, 0),
                         bias_quantizer=_qb(6, 0), name="sep")(x)
    return QActivation("quantized_relu(6,2)", name="act_sep")(x)


def _functional_add():
    def build(tf, qk):
        from qkeras import QActivation, QDense

        L = tf.keras.layers
        inp = tf.keras.Input((10,), name="x")
        a = QDense(8, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="a")(inp)
        a = QActivation("quantized_relu(6,2)", name="ra")(a)
        b = QDense(8, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="b")(inp)
        b = QActivation("quantized_relu(6,2)", name="rb")(b)
        x = L.Add(name="add")([a, b])
        x = QDense(4, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="out")(x)
        return tf.keras.Model(inp, x)

    return build


def _activation_in_layer(act):
    def build(tf, qk):
        from qkeras import QDense

        return tf.keras.Sequential([
            QDense(12, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), activation=act, input_shape=(10,),
                   bias_initializer=_rand_bias(), name="fc1"),
            QDense(4, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="fc2"),
        ])

    return build


def _plain_dense():
    def build(tf, qk):
        return tf.keras.Sequential([tf.keras.layers.Dense(8, input_shape=(10,), name="fc1", activation="relu"),
                                    tf.keras.layers.Dense(4, name="fc2")])

    return build


def _dropout_reshape():
    def build(tf, qk):
        from qkeras import QActivation, QConv1D, QDense

        L = tf.keras.layers
        return tf.keras.Sequential([
            L.InputLayer((12,), name="x"),
            L.Reshape((6, 2), name="rs"),
            QConv1D(3, 2, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="c"),
            QActivation("quantized_relu(6,2)", name="r"),
            L.Dropout(0.3, name="drop"),
            L.Flatten(name="f"),
            QDense(4, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="out"),
        ])

    return build


def _global_pool(kind):
    def build(tf, qk):
        from qkeras import QActivation, QConv2D, QDense

        L = tf.keras.layers
        inp = tf.keras.Input((6, 6, 2), name="img")
        x = QConv2D(4, 3, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="conv")(inp)  # 4x4 out
        x = QActivation("quantized_relu(6,2)", name="r")(x)
        x = (L.GlobalAveragePooling2D if kind == "avg" else L.GlobalMaxPooling2D)(name="gp")(x)
        x = QDense(4, kernel_quantizer=_qb(6, 0), bias_quantizer=_qb(6, 0), name="out")(x)
        return tf.keras.Model(inp, x)

    return build


def _lambda_model():
    def build(tf, qk):
        inp = tf.keras.Input((10,))
        x = tf.keras.layers.Lambda(lambda t: t * 2.0, name="lam")(inp)
        return tf.keras.Model(inp, tf.keras.layers.Dense(4, name="o")(x))

    return build


def _qbits(bits, integer, alpha=1):
    return lambda: _qb(bits, integer, alpha=alpha)


def _po2(bits=4, max_value=1):
    def q():
        from qkeras import quantized_po2

        return quantized_po2(bits, max_value)

    return q


def _binary():
    from qkeras import binary

    return binary(alpha=1)


def _ternary():
    from qkeras import ternary

    return ternary(alpha=1)


CASES: list[Case] = [
    # --- Dense, weight quantizers -------------------------------------------------------
    Case("dense_seq_no_input", _dense_model(_qbits(6, 0), seq_input=False), (10,), rtl="exact"),
    Case("dense_seq_input", _dense_model(_qbits(6, 0)), (10,), rtl="exact"),
    Case("dense_bits2", _dense_model(_qbits(2, 0)), (10,)),
    Case("dense_bits4_int1", _dense_model(_qbits(4, 1)), (10,)),
    Case("dense_bits8_int2", _dense_model(_qbits(8, 2)), (10,), rtl="exact"),
    Case("dense_bits12_int3", _dense_model(_qbits(12, 3)), (10,), default=False),
    Case("dense_bits16_int3", _dense_model(_qbits(16, 3)), (10,)),
    Case("dense_auto_po2", _dense_model(_qbits(6, 0, "auto_po2"), bq=_qbits(6, 0)), (10,), rtl="exact"),
    Case("dense_auto_po2_bits4", _dense_model(_qbits(4, 0, "auto_po2"), bq=_qbits(6, 0)), (10,), default=False),
    Case("dense_alpha_auto", _dense_model(_qbits(6, 0, "auto"), bq=_qbits(6, 0)), (10,), expect="refused:alpha=1 or alpha='auto_po2'"),
    Case("dense_po2", _dense_model(_po2(4, 1), bq=_qbits(6, 0)), (10,), rtl="exact"),
    Case("dense_po2_bits5", _dense_model(_po2(5, 2), bq=_qbits(8, 2)), (10,), default=False),
    Case("dense_binary", _dense_model(_binary, bq=_qbits(6, 0)), (10,), rtl="exact"),
    Case("dense_ternary", _dense_model(_ternary, bq=_qbits(6, 0)), (10,)),
    Case("dense_unsigned_bias", _dense_model(_qbits(6, 0), bq=lambda: _qb(6, 0, keep_negative=False)), (10,), default=False),
    Case("dense_symmetric", _dense_model(lambda: _qb(6, 0, symmetric=True)), (10,)),
    # --- activations ----------------------------------------------------------------------
    Case("act_relu_no_integer", _dense_model(_qbits(6, 0), act="quantized_relu(6)"), (10,)),
    Case("act_relu_int3", _dense_model(_qbits(6, 0), act="quantized_relu(8,3)"), (10,), rtl="exact"),
    Case("act_float_relu", _dense_model(_qbits(6, 0), act="relu"), (10,), rtl="exact"),
    Case("act_linear", _dense_model(_qbits(6, 0), act="linear"), (10,)),
    Case("act_quantized_bits", _dense_model(_qbits(6, 0), act="quantized_bits(8,2)"), (10,)),
    Case("act_binary", _dense_model(_qbits(6, 0), act="binary(alpha=1)"), (10,)),
    Case("act_ternary_after_ternary_weights", _dense_model(_ternary, bq=_qbits(6, 0), act="ternary(alpha=1)"), (10,),
         expect="refused:thresholds at +-1"),
    Case("act_binary_after_ternary_weights", _dense_model(_ternary, bq=_qbits(6, 0), act="binary(alpha=1)"), (10,),
         default=False),
    Case("act_ternary", _dense_model(_qbits(6, 0), act="ternary(alpha=1)"), (10,), default=False),
    Case("act_quantized_tanh", _dense_model(_qbits(6, 0), act="quantized_tanh(6)"), (10,), expect="refused:lookup table"),
    Case("act_quantized_sigmoid", _dense_model(_qbits(6, 0), act="quantized_sigmoid(6)"), (10,), expect="refused:lookup table", default=False),
    Case("act_inside_dense", _activation_in_layer("quantized_relu(6,2)"), (10,)),
    Case("act_tanh_middle", _dense_model(_qbits(6, 0), act="tanh"), (10,), expect="refused:tanh"),
    # --- final activations ----------------------------------------------------------------
    Case("final_softmax", _dense_model(_qbits(6, 0), final="softmax"), (10,), rtl="exact"),
    Case("final_sigmoid", _dense_model(_qbits(6, 0), final="sigmoid"), (10,)),
    # --- conv -----------------------------------------------------------------------------
    Case("conv2d_maxpool", _conv2d_model(), (8, 8, 2), rtl="exact", rtl_in_default=False),
    Case("conv2d_avgpool", _conv2d_model(pool="avg"), (8, 8, 2)),
    Case("conv2d_io_stream", _conv2d_model(), (8, 8, 2), io_type="io_stream"),
    Case("conv2d_resource", _conv2d_model(), (8, 8, 2), strategy="resource", default=False),
    Case("depthwise2d", _conv2d_model(extra=_depthwise), (8, 8, 2)),
    Case("separable2d", _conv2d_model(extra=_separable), (8, 8, 2)),
    Case("conv1d_maxpool", _conv1d_model(), (16, 3)),
    Case("separable1d", _separable1d(), (16, 3)),
    Case("conv1d_avgpool", _conv1d_model(pool="avg"), (16, 3)),
    Case("conv1d_avgpool3", _conv1d_model(pool="avg3"), (16, 3), expect="refused:divides by 3"),
    Case("conv1d_global_avg", _conv1d_model(pool="gavg"), (16, 3), expect="refused:divides by 14"),
    Case("global_avg2d", _global_pool("avg"), (6, 6, 2)),
    Case("global_max2d", _global_pool("max"), (6, 6, 2)),
    Case("conv1d_io_stream", _conv1d_model(), (16, 3), io_type="io_stream", default=False),
    Case("dropout_reshape", _dropout_reshape(), (12,)),
    # --- batch norm -----------------------------------------------------------------------
    Case("qconv2d_batchnorm", _bn_model("conv_bn"), (8, 8, 2), rtl="exact", rtl_in_default=False),
    Case("qdepthwise_batchnorm", _bn_model("dw_bn"), (8, 8, 2)),
    Case("float_batchnorm", _bn_model("float"), (10,), expect="measured"),
    Case("qbatchnorm", _bn_model("qbn"), (10,), expect="measured", default=False),
    # --- strategies, io, graphs -----------------------------------------------------------
    Case("dense_resource", _dense_model(_qbits(6, 0)), (10,), strategy="resource"),
    Case("dense_io_stream", _dense_model(_qbits(6, 0)), (10,), io_type="io_stream"),
    Case("functional_add", _functional_add(), (10,)),
    Case("plain_dense_float", _plain_dense(), (10,), expect="refused:not quantized"),
    Case("lambda_layer", _lambda_model(), (10,), expect="refused:Lambda"),
]


def default_cases() -> list[Case]:
    return [c for c in CASES if c.default]


def run_case(name: str, workdir: str, rtl: bool = False) -> dict:
    """Build case `name`, save it as a user would, and run `hwgen flow --model-file` on it.

    Runs in a worker process; returns the exit code, the one-line error, and the C-sim (and,
    with rtl=True, RTL simulation) figures from the run's report."""
    import contextlib
    import io
    import json
    from pathlib import Path

    from hwgen.tfcompat import tf
    import qkeras

    case = next(c for c in CASES if c.name == name)
    work = Path(workdir) / name
    work.mkdir(parents=True, exist_ok=True)
    tf.keras.utils.set_random_seed(11)
    model = case.build(tf, qkeras)
    model.save(work / "model.h5")
    X = grid_inputs(case.shape)
    y = np.random.default_rng(2).integers(0, case.classes, len(X))
    np.savez(work / "data.npz", X_test=X, y_test=y)
    out = work / "run"
    argv = ["flow", "--model-file", str(work / "model.h5"), "--data", str(work / "data.npz"), "--out", str(out),
            "--input-bits", str(INPUT_BITS), "--input-integer", str(INPUT_INTEGER), "--io-type", case.io_type,
            "--strategy", case.strategy, "--synth", "none", "--no-baseline", "--quiet"]
    err = io.StringIO()
    from hwgen.cli import main

    with contextlib.redirect_stderr(err):
        rc = main(argv)
    lines = [ln for ln in err.getvalue().splitlines() if ln.startswith("hwgen:")]
    result = {"name": name, "rc": rc, "error": lines[-1] if lines else "", "run_exists": out.exists(),
              "staging_left": [p.name for p in work.iterdir() if p.name.startswith(".")]}
    if (out / "report.json").exists():
        report = json.loads((out / "report.json").read_text())
        result["csim"] = report.get("csim")
        result["convert"] = {"measured_only": json.loads((out / "convert.json").read_text()).get("measured_only")}
        result["notices"] = report.get("notices") or []
    if rc == 0 and case.expect == "exact" and rtl:
        result["rtl"] = _rtl(out)
    return result


def _rtl(run_dir) -> dict:
    """The open path on a finished run: refused by name, or RTL-simulated (Icarus) and compared."""
    from hwgen.boards import load_board
    from hwgen.hwform import PathUnsupported
    from hwgen.synth.open.open_flow import run_open_synth

    try:
        res = run_open_synth(run_dir, load_board("icebreaker-up5k"), max_samples=96, synthesize=False)
    except PathUnsupported as exc:
        return {"refused": str(exc)}
    return {k: res.rtlsim.get(k) for k in ("bit_exact_fraction", "n_samples", "max_abs_diff")}
