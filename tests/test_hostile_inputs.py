"""Hostile input, table-driven: every row is one thing a careless user or an attacker can hand
hwgen. Each must be refused with exit code 2 and exactly one `hwgen: error:` line naming the
problem, with no traceback, no code from a model file run (each payload tries to create a
marker file), and nothing changed on disk: the whole test folder, user files included, has
the same paths and checksums before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, run_cli, tiny_spec

TINY = tiny_spec(dataset="{name: npz}")
PAYLOAD_MODULE = "hwgen_payload_mod"


def tree(root: Path) -> dict[str, str]:
    """Every path under root (files, links, folders) with the sha256 of its content."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ---------------------------------------------------------------------------------------------
# model files, built once: payloads try to create `marker`


def _payload(marker: Path):
    return eval(f"lambda t: (__import__('pathlib').Path({str(marker)!r}).touch(), t)[1]")  # noqa: S307 - the test's own payload


def _edit_h5_config(path: Path, edit) -> None:
    import h5py

    with h5py.File(path, "r+") as fh:
        raw = fh.attrs["model_config"]
        cfg = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        new = edit(cfg)
        fh.attrs["model_config"] = new if isinstance(new, str) else json.dumps(cfg if new is None else new)


def _edit_keras_config(path: Path, edit) -> None:
    with zipfile.ZipFile(path) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    cfg = json.loads(files["config.json"])
    edit(cfg)
    files["config.json"] = json.dumps(cfg).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in files.items():
            zf.writestr(n, data)


def _layers(cfg):
    return cfg["config"]["layers"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """name -> model file; `marker` is what the payloads try to create."""
    from hwgen.tfcompat import tf

    L = tf.keras.layers
    d = tmp_path_factory.mktemp("models")
    marker = d / "PAYLOAD_RAN"
    fn = _payload(marker)
    out: dict[str, Path] = {"_marker": marker, "_dir": d}

    def dense_model(name="m"):
        tf.keras.utils.set_random_seed(1)
        inp = tf.keras.Input((4,), name="features")
        x = L.Dense(4, name="fc1")(inp)
        x = L.Dense(3, name="logits")(x)
        return tf.keras.Model(inp, x, name=name)

    # 1. bare-list Sequential carrying a Lambda (Keras 2.15 accepts a list as the config)
    seq = tf.keras.Sequential([L.InputLayer((4,)), L.Lambda(fn, name="sneaky"), L.Dense(3, name="logits")])
    seq.save(d / "bare_list.h5")
    _edit_h5_config(d / "bare_list.h5", lambda cfg: {"class_name": "Sequential", "config": cfg["config"]["layers"]})
    # 2. a Lambda inside a functional model nested in another
    inner_in = tf.keras.Input((4,))
    inner = tf.keras.Model(inner_in, L.Lambda(fn, name="deep")(inner_in), name="inner")
    outer_in = tf.keras.Input((4,), name="features")
    tf.keras.Model(outer_in, L.Dense(3, name="logits")(inner(outer_in))).save(d / "nested.h5")
    # 3. a Lambda inside a wrapper
    w_in = tf.keras.Input((2, 4))
    w = L.TimeDistributed(L.Lambda(fn, name="wrapped"), name="td")(w_in)
    tf.keras.Model(w_in, L.Dense(3, name="logits")(L.Flatten(name="flat")(w))).save(d / "wrapper.h5")
    # 4. a Lambda in a .keras archive
    k_in = tf.keras.Input((4,), name="features")
    tf.keras.Model(k_in, L.Dense(3, name="logits")(L.Lambda(fn, name="sneaky")(k_in))).save(d / "lambda.keras")
    # 5. a `module` field naming a module whose import runs code
    (d / f"{PAYLOAD_MODULE}.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).touch()\nDense = None\n")
    dense_model().save(d / "module.keras")

    def set_module(cfg):  # Keras imports the top-level object's module by name
        cfg["module"] = PAYLOAD_MODULE

    _edit_keras_config(d / "module.keras", set_module)
    if marker.exists():
        marker.unlink()  # building the models above ran the payloads once, by design
    # 6. a quantizer string that is an expression
    dense_model().save(d / "qstring.h5")
    _edit_h5_config(d / "qstring.h5", lambda cfg: _layers(cfg)[1]["config"].update(
        kernel_quantizer=f"__import__('pathlib').Path({str(marker)!r}).touch()") or cfg)
    # 7. an unknown custom class, 8. a built-in layer hwgen does not take to hardware
    dense_model().save(d / "custom.h5")
    _edit_h5_config(d / "custom.h5", lambda cfg: _layers(cfg)[1].update(class_name="MyFancyActivation") or cfg)
    s_in = tf.keras.Input((3, 4), name="seq")
    tf.keras.Model(s_in, L.Dense(3, name="logits")(L.LSTM(2, name="rnn")(s_in))).save(d / "unsupported.h5")
    # 9. model_config not JSON; 10. an unknown layer argument; 11. a registered name of another class
    dense_model().save(d / "notjson.h5")
    _edit_h5_config(d / "notjson.h5", lambda cfg: '{"class_name": "Functional", "config": {')
    dense_model().save(d / "badarg.h5")
    _edit_h5_config(d / "badarg.h5", lambda cfg: _layers(cfg)[1]["config"].update(frobnicate=3) or cfg)
    dense_model().save(d / "regname.keras")
    _edit_keras_config(d / "regname.keras", lambda cfg: _layers(cfg)[1].update(registered_name="Custom>Evil"))
    # 12. a name colliding with hls4ml's generated `<layer>_linear`; 13. a non-ASCII name
    c_in = tf.keras.Input((4,), name="features")
    tf.keras.Model(c_in, L.Dense(3, name="fc1_linear")(L.Dense(4, name="fc1")(c_in))).save(d / "collide.h5")
    dense_model().save(d / "unicode.h5")
    _edit_h5_config(d / "unicode.h5", lambda cfg: _layers(cfg)[1]["config"].update(name="fc\u00fc") or cfg)
    # 14. weights only; 15. not HDF5; 16. not a zip; 17. another format; 18. not a model at the top
    dense_model().save_weights(d / "weights.h5")
    (d / "garbage.h5").write_bytes(b"this is not an HDF5 file\n")
    (d / "garbage.keras").write_bytes(b"PK but not really a zip")
    (d / "model.pb").write_bytes(b"\x08\x01")
    dense_model().save(d / "toplist.h5")
    _edit_h5_config(d / "toplist.h5", lambda cfg: [1, 2, 3])
    for p in d.iterdir():
        out.setdefault(p.stem if p.suffix != ".keras" else p.stem + "_keras", p)
    return out


# ---------------------------------------------------------------------------------------------
# the table

def _data(tmp: Path, name="d.npz", **arrays) -> Path:
    p = tmp / name
    np.savez(p, **arrays)
    return p


def _npz_ok(tmp):
    rng = np.random.default_rng(0)
    return _data(tmp, X=rng.normal(size=(40, 4)), y=rng.integers(0, 3, 40))


def _tiny(tmp, text=TINY, name="tiny.yaml") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


def _csv(tmp, rows, header="a,b,c,d,class", name="d.csv") -> Path:
    p = tmp / name
    p.write_text(header + "\n" + "\n".join(rows) + "\n")
    return p


def _rows(labels):
    return [f"{i % 3},{i % 5},{i % 7},{i % 2},{lab}" for i, lab in enumerate(labels)]


def model_row(key, needle):
    def make(tmp, models):
        return ["flow", "--model-file", models[key], "--data", _npz_ok(tmp), "--out", tmp / "run", "--quiet"]

    return make, needle


def spec_row(args, needle, text=TINY):
    def make(tmp, models):
        return ["flow", _tiny(tmp, text), "--data", _npz_ok(tmp), "--out", tmp / "run", "--quiet", *args]

    return make, needle


def zoo_row(args, needle):
    def make(tmp, models):
        return ["flow", "digits_mlp", "--out", tmp / "run", "--quiet", *args]

    return make, needle


def data_row(make_data, needle, extra=()):
    def make(tmp, models):
        return ["flow", _tiny(tmp), "--data", make_data(tmp), "--out", tmp / "run", "--quiet", *extra]

    return make, needle


def out_row(make_out, needle):
    def make(tmp, models):
        return ["convert", _tiny(tmp), "--data", _npz_ok(tmp), "--out", make_out(tmp), "--quiet", "--no-csim"]

    return make, needle


def _user_folder(tmp):
    (tmp / "mine").mkdir()
    (tmp / "mine" / "thesis.tex").write_text("precious")
    return tmp / "mine"


def _damaged_run(tmp):
    (tmp / "old").mkdir()
    (tmp / "old" / "run.json").write_text("{not json")
    (tmp / "old" / "notes.txt").write_text("mine")
    return tmp / "old"


def _a_file(tmp):
    (tmp / "afile").write_text("x")
    return tmp / "afile"


ROWS = {
    # model files: code, custom objects, unsupported layers, damaged files (issue items 1, 6, 8)
    "bare-list Sequential with a Lambda": model_row("bare_list", "sneaky (Lambda) at config[1]"),
    "Lambda in a nested functional model": model_row("nested", "deep (Lambda) at config.layers[1].config.layers[1]"),
    "Lambda inside a TimeDistributed wrapper": model_row("wrapper", "wrapped (Lambda) at config.layers[1].config.layer"),
    "Lambda in a .keras archive": model_row("lambda_keras", "sneaky (Lambda)"),
    "module field importing a payload module": model_row("module_keras", f"module '{PAYLOAD_MODULE}' would be imported"),
    "quantizer string that is an expression": model_row("qstring", "kernel_quantizer"),
    "unknown custom class": model_row("custom", "custom objects hwgen does not know: fc1 (MyFancyActivation)"),
    "built-in layer hwgen does not support": model_row("unsupported", "unsupported layer): rnn (LSTM)"),
    "model_config is not JSON": model_row("notjson", "the stored model config is not JSON"),
    "unknown layer argument": model_row("badarg", "unknown argument(s) ['frobnicate']"),
    "registered name of another class": model_row("regname_keras", "registered name 'Custom>Evil'"),
    "layer name colliding with hls4ml's fc1_linear": model_row("collide", "'fc1_linear' collides with the node hls4ml generates for layer 'fc1'"),
    "non-ASCII layer name": model_row("unicode", "must be an ASCII identifier"),
    "weights-only .h5": model_row("weights", "holds weights only"),
    "not an HDF5 file": model_row("garbage", "as HDF5"),
    "not a zip .keras": model_row("garbage_keras", "is not a valid .keras archive"),
    "another model format": model_row("model", "must be a Keras .h5 or .keras file"),
    "config that is not a model": model_row("toplist", "the stored config is not a Keras model"),
    "missing model file": (lambda tmp, m: ["flow", "--model-file", tmp / "nope.h5", "--data", _npz_ok(tmp), "--out", tmp / "run"], "does not exist"),
    # numeric options and names (item 5)
    "--clock-mhz -5": zoo_row(["--clock-mhz", "-5"], "--clock-mhz must be > 0"),
    "--clock-mhz 0": zoo_row(["--clock-mhz", "0"], "--clock-mhz must be > 0"),
    "--clock-mhz nan": zoo_row(["--clock-mhz", "nan"], "--clock-mhz must be a finite number"),
    "--clock-mhz 1e9": zoo_row(["--clock-mhz", "1e9"], "--clock-mhz must be in (0, 2000]"),
    "--epochs 0": zoo_row(["--epochs", "0"], "--epochs must be in [1, 10000]"),
    "--seed -1": zoo_row(["--seed", "-1"], "--seed must be in [0, 2147483647]"),
    "--reuse-factor 0": zoo_row(["--reuse-factor", "0"], "--reuse-factor must be in [1, 4096]"),
    "--sparsity 1.5": zoo_row(["--sparsity", "1.5"], "--sparsity must be in [0.0, 0.99]"),
    "--bits 1": zoo_row(["--bits", "1"], "--bits must be in [2, 32]"),
    "--input-integer too wide": zoo_row(["--input-bits", "8", "--input-integer", "8"], "--input-integer (8) must be at most --input-bits - 1"),
    "--baseline-reps 0": zoo_row(["--baseline-reps", "0"], "--baseline-reps must be in [1, 1000000]"),
    "--rtl-samples 0": zoo_row(["--rtl-samples", "0"], "--rtl-samples must be in [1, 10000000]"),
    "--timeout 0": zoo_row(["--timeout", "0"], "--timeout must be > 0"),
    "--classes of the wrong count": zoo_row(["--classes", "a,b,c"], "--classes names 3 classes but the model has 10 outputs"),
    "--classes with a repeated name": zoo_row(["--classes", "a,a,b,c,d,e,f,g,h,i"], "class names must be unique"),
    "--synth unknown": zoo_row(["--synth", "magic"], "--synth 'magic' unknown"),
    "unknown board": zoo_row(["--board", "zedboard9000"], "unknown board 'zedboard9000'"),
    "pruning begins after the last epoch": spec_row([], "pruning.begin_epoch: (5) must be before the last epoch",
                                                    TINY.replace("begin_epoch: 0, end_epoch: 2", "begin_epoch: 5")),
    "pruning ends before it begins": spec_row([], "pruning.end_epoch: (1) must be after pruning.begin_epoch (1)",
                                              TINY.replace("begin_epoch: 0, end_epoch: 2", "begin_epoch: 1, end_epoch: 1")),
    "spec layer named like hls4ml's fc1_linear": spec_row([], "'fc1_linear' collides with the node hls4ml generates for layer 'fc1'",
                                                          TINY.replace("name: relu1", "name: fc1_linear")),
    "spec layer name not ASCII": spec_row([], "layers[1].name: must start with an ASCII letter", TINY.replace("name: relu1", "name: r\u00e9lu")),
    "spec class list repeated": spec_row([], "class names must be unique", TINY.replace("classes: 3", "classes: [a, b, a]")),
    "YAML python tag": spec_row([], "not valid YAML", "name: !!python/object/apply:os.system ['true']\n"),
    "unknown zoo model": (lambda tmp, m: ["flow", "nosuchmodel", "--out", tmp / "run"], "unknown model 'nosuchmodel'"),
    # data (items 2, 6)
    "CSV string labels without a class list": data_row(lambda t: _csv(t, _rows("gqtwz" * 8)), "labels are strings ('g', 'q', 't', 'w', 'z')"),
    "CSV labels starting at 10": data_row(lambda t: _csv(t, _rows([10, 11, 12] * 14)), "labels must lie in 0..2, found 10..12"),
    "CSV label outside the class list": data_row(lambda t: _csv(t, _rows("abcx" * 10)), "label(s) ['x'] are not in the class list ['a', 'b', 'c']",
                                                 ["--classes", "a,b,c"]),
    "CSV rows of different lengths": data_row(lambda t: _csv(t, _rows([0, 1, 2] * 4) + ["1,2,3"]), "have a different number of columns"),
    "CSV that is binary": data_row(lambda t: (t / "d.csv").write_bytes(b"\xff\xfe\x00\x81" * 40) and t / "d.csv", "not a text CSV file"),
    "npz with an object array": data_row(lambda t: _data(t, X=np.array([{"a": 1}] * 20, dtype=object), y=np.zeros(20)), "object arrays are refused"),
    "npz string labels": data_row(lambda t: _data(t, X=np.zeros((20, 4)), y=np.array(["cat", "dog"] * 10)), "labels are strings ('cat', 'dog')"),
    "npz empty": data_row(lambda t: _data(t, X=np.zeros((0, 4)), y=np.zeros(0)), "X holds no samples"),
    "npz complex X": data_row(lambda t: _data(t, X=np.ones((20, 4)) * 1j, y=np.zeros(20)), "X must be numeric (real)"),
    "npz boolean labels": data_row(lambda t: _data(t, X=np.zeros((20, 4)), y=np.array([True, False] * 10)), "labels are booleans"),
    "npz NaN": data_row(lambda t: _data(t, X=np.full((20, 4), np.nan), y=np.zeros(20)), "NaN/inf"),
    "data file missing": data_row(lambda t: t / "nope.npz", "does not exist"),
    # output folders (items 3, 6)
    "--out name too long": out_row(lambda t: t / ("x" * 300), "file name too long"),
    "--out is a file": out_row(_a_file, "exists and is not a directory"),
    "--out under a file": out_row(lambda t: _a_file(t) / "run", "a part of the path is not a directory (ENOTDIR)"),
    "--out holds the user's files": out_row(_user_folder, "already holds files that hwgen did not create"),
    "--out holds a damaged run.json": out_row(_damaged_run, "holds a damaged run.json"),
}


@pytest.mark.parametrize("case", list(ROWS), ids=list(ROWS))
def test_hostile_input_is_refused_cleanly(case, models, tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(models["_dir"]))  # the payload module is importable: only the gate stops it
    make, needle = ROWS[case]
    argv = make(tmp_path, models)
    before, before_models = tree(tmp_path), tree(models["_dir"])
    capsys.readouterr()
    rc = run_cli(*argv)
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("hwgen: error:")]
    assert rc == 2, err
    assert len(errors) == 1 and "Traceback" not in err, err
    assert needle in errors[0], errors[0]
    assert not models["_marker"].exists(), "code from the model file ran"
    assert PAYLOAD_MODULE not in sys.modules
    assert tree(tmp_path) == before and tree(models["_dir"]) == before_models  # nothing written, nothing lost


def test_the_payloads_are_live(models, tmp_path):
    """Control: plain Keras (no hwgen gate) does run each payload, so the rows above test the gate."""
    script = f"""
import sys, pathlib
sys.path.insert(0, {str(models['_dir'])!r})
from hwgen.tfcompat import tf
marker = pathlib.Path({str(models['_marker'])!r})
ran = []
for key in ("bare_list.h5", "nested.h5", "wrapper.h5", "lambda.keras", "module.keras"):
    marker.unlink(missing_ok=True)
    try:
        tf.keras.models.load_model({str(models['_dir'])!r} + "/" + key, compile=False, safe_mode=False)
    except Exception:
        pass
    ran.append(marker.exists())
marker.unlink(missing_ok=True)
print(ran)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.stdout.strip().splitlines()[-1] == "[True, True, True, True, True]", proc.stdout + proc.stderr
    assert not models["_marker"].exists()


def test_one_line_and_exit_2_through_the_real_cli(models, tmp_path):
    """The same gate through `python -m hwgen` (a fresh process): one line on stderr, exit 2."""
    proc = subprocess.run(
        [sys.executable, "-m", "hwgen", "flow", "--model-file", str(models["bare_list"]), "--data", str(_npz_ok(tmp_path)),
         "--out", str(tmp_path / "run"), "--quiet"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    lines = [line for line in proc.stderr.splitlines() if line.startswith("hwgen:")]
    assert proc.returncode == 2 and len(lines) == 1 and "Lambda" in lines[0] and "Traceback" not in proc.stderr
    assert not models["_marker"].exists() and not (tmp_path / "run").exists()


def test_the_gate_admits_what_hwgen_takes_to_hardware(tmp_path):
    """Every layer class of the allowlist, saved by Keras/QKeras in both formats, passes the gate
    (initializers, regularizers and constraints are data)."""
    from hwgen.modelgate import check_model_file
    from hwgen.tfcompat import tf
    from qkeras import (QActivation, QAveragePooling2D, QBatchNormalization, QConv1D, QConv2D, QConv2DBatchnorm, QDense,
                        QDepthwiseConv2D, QDepthwiseConv2DBatchnorm, QGlobalAveragePooling2D, QSeparableConv1D,
                        QSeparableConv2D, quantized_bits, quantized_relu)

    L = tf.keras.layers
    q = quantized_bits(6, 0, alpha=1)
    img = tf.keras.Input((8, 8, 2), name="img")
    x = QConv2D(2, 3, kernel_quantizer=q, bias_quantizer="quantized_bits(6,0,alpha=1)", kernel_regularizer=tf.keras.regularizers.l2(1e-3),
                kernel_constraint=tf.keras.constraints.MaxNorm(2), name="qc2")(img)
    x = QConv2DBatchnorm(2, 1, kernel_quantizer=q, name="qcbn")(x)
    x = QDepthwiseConv2D(1, depthwise_quantizer=q, name="qdw")(x)
    x = QDepthwiseConv2DBatchnorm(1, depthwise_quantizer=q, name="qdwbn")(x)
    x = QSeparableConv2D(2, 1, depthwise_quantizer=q, pointwise_quantizer=q, name="qsep2")(x)
    x = QBatchNormalization(name="qbn")(x)
    x = QActivation(quantized_relu(6, 2), name="qrelu")(x)
    x = QAveragePooling2D(name="qap")(x)
    x = L.ZeroPadding2D(name="zp2")(x)
    x = L.Conv2D(2, 1, name="c2")(x)
    x = L.DepthwiseConv2D(1, name="dw2")(x)
    x = L.SeparableConv2D(2, 1, name="sep2")(x)
    x = L.BatchNormalization(name="bn")(x)
    a = L.MaxPooling2D(1, name="mp2")(x)
    b = L.AveragePooling2D(1, name="ap2")(x)
    x = L.Add(name="add")([a, b])
    x = L.Concatenate(name="cat")([x, x])
    g1 = QGlobalAveragePooling2D(name="qgap")(x)
    g2 = L.GlobalMaxPooling2D(name="gmp2")(x)
    g3 = L.GlobalAveragePooling2D(name="gap2")(x)
    v = L.Concatenate(name="cat2")([g1, g2, g3])
    s = L.Reshape((v.shape[-1], 1), name="rs")(v)
    s = L.ZeroPadding1D(name="zp1")(s)
    s = QConv1D(2, 1, kernel_quantizer=q, name="qc1")(s)
    s = QSeparableConv1D(2, 1, depthwise_quantizer=q, pointwise_quantizer=q, name="qsep1")(s)
    s = L.Conv1D(2, 1, name="c1")(s)
    s = L.DepthwiseConv1D(1, name="dw1")(s)
    s = L.SeparableConv1D(2, 1, name="sep1")(s)
    s1 = L.MaxPooling1D(1, name="mp1")(s)
    s2 = L.AveragePooling1D(1, name="ap1")(s)
    s = L.Add(name="add1")([s1, s2])
    t = L.Concatenate(name="cat3")([L.GlobalMaxPooling1D(name="gmp1")(s), L.GlobalAveragePooling1D(name="gap1")(s)])
    t = L.Flatten(name="flat")(t)
    t = L.Dropout(0.1, name="drop")(t)
    t = L.Dense(4, activation="relu", name="d1")(t)
    t = L.ReLU(name="relu")(t)
    t = L.LeakyReLU(name="leaky")(t)
    t = L.Activation("tanh", name="act")(t)
    t = QDense(3, kernel_quantizer=q, name="qd")(t)
    t = L.Softmax(name="sm")(t)
    model = tf.keras.Model(img, t)
    for suffix in (".h5", ".keras"):
        model.save(tmp_path / f"all{suffix}")
        check_model_file(tmp_path / f"all{suffix}")
    seq = tf.keras.Sequential([L.InputLayer((4,)), L.Dense(3, kernel_initializer="he_normal", name="d")])
    seq.save(tmp_path / "seq.h5")
    check_model_file(tmp_path / "seq.h5")


def test_trusting_model_code_is_explicit(models):
    """--trust-model-code lets code-carrying files through the gate (the user's own files)."""
    from hwgen.modelgate import check_model_file

    check_model_file(models["bare_list"], trust_code=True)
    assert not models["_marker"].exists()  # the gate itself never runs anything


def test_labels_are_used_as_given(tmp_path):
    """Integer labels as given, whatever classes a file happens to contain (issue item 2: sorting
    the distinct labels of a file shifted every label); strings only with a class list."""
    from hwgen.data import load_user_data
    from hwgen.errors import HwgenError
    from hwgen.spec import load_spec

    spec = load_spec(_tiny(tmp_path))
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 4))
    y = np.array([2, 1] * 15)  # class 0 absent from this test file
    np.savez(tmp_path / "d.npz", X_test=X, y_test=y)
    _csv(tmp_path, [",".join(f"{v:.17g}" for v in row) + f",{lab}" for row, lab in zip(X, y)])
    from_npz = load_user_data(tmp_path / "d.npz", spec)
    from_csv = load_user_data(tmp_path / "d.csv", spec)
    assert list(from_csv.y_test) == list(y) == list(from_npz.y_test)
    assert np.array_equal(from_csv.X_test, from_npz.X_test)
    names = ["t", "q", "g"]  # deliberately not sorted: the class list decides, not the file
    _csv(tmp_path, [",".join(f"{v:.17g}" for v in row) + f",{names[lab]}" for row, lab in zip(X, y)], name="s.csv")
    import dataclasses

    named = load_user_data(tmp_path / "s.csv", dataclasses.replace(spec, class_names=tuple(names)))
    assert list(named.y_test) == list(y)
    with pytest.raises(HwgenError, match="labels are strings"):
        load_user_data(tmp_path / "s.csv", spec)


def test_out_path_with_a_quote_and_a_command_substitution(tmp_path):
    """Issue item 7: the output path never reaches generated code. A `"` used to break the C-sim
    build; `$(touch ...)` must stay a file name."""
    from hwgen.hlsproject import paths_left

    evil = tmp_path / 'q"x$(touch MARK)' / "run"
    assert run_cli("convert", _tiny(tmp_path, TINY.replace("{name: npz}", "{name: synthetic, n_samples: 64}")),
                   "--untrained", "--out", evil, "--quiet") == 0
    report = json.loads((evil / "report.json").read_text())
    assert report["csim"]["bit_exact_fraction"] == 1.0 and report["csim"]["n_samples"] == 32
    assert not list(tmp_path.rglob("MARK")) and not Path("MARK").exists()
    assert paths_left(evil / "hls") == []
    cfg = (evil / "hls" / "hls4ml_config.yml").read_text()
    assert "OutputDir: .\n" in cfg and ".partial-" not in cfg


def test_summary_says_when_rtl_simulation_did_not_run():
    """Issue item 8: not `rtl sim bit-exact None of 0 (None)`."""
    from hwgen.report import summary_lines

    report = {
        "run": {"name": "x", "board": {"name": "pynq-z2"}}, "accuracy": {}, "csim": None, "synth": [], "baselines": [],
        "model": {"params": 1, "nonzero": 1, "sparsity": 0.0, "bops": 1.0},
        "rtl_sim": {"n_samples": 0, "bit_exact_fraction": None, "simulator": None, "skipped": "rtl-sim skipped: iverilog not found"},
    }
    lines = summary_lines(report)
    assert "  rtl sim    not run: rtl-sim skipped: iverilog not found" in lines
    assert not any("None" in line for line in lines)
