"""Read an hls4ml project directory into the facts the estimator needs, from the files hls4ml
writes (never by running a tool): hls4ml_config.yml (backend, part, clock, IO type),
firmware/defines.h (typedefs), firmware/parameters.h (one config struct per layer),
firmware/<project>.cpp (the layer calls in order, stream depths, top pragmas) and
firmware/weights/*.txt (or the *.h initialisers when the .txt files are absent)."""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from hwgen.errors import HwgenError
from hwgen.synth.estimate.fixedtype import FixedType, parse_type


class _TagTolerantLoader(yaml.SafeLoader):
    """SafeLoader that reads hls4ml's custom tags (e.g. `!keras_model 'path'`) as plain values."""


def _any_tag(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_TagTolerantLoader.add_multi_constructor("!", _any_tag)


@dataclass
class ConfigStruct:
    name: str
    base: str  # e.g. 'nnet::dense_config'
    values: dict[str, object] = field(default_factory=dict)  # static consts (evaluated when numeric)
    types: dict[str, str] = field(default_factory=dict)  # typedef alias -> type name/spelling
    templates: dict[str, str] = field(default_factory=dict)  # using X = ... (kernel, product, fill_buffer)

    def num(self, key: str, default: float | None = None) -> float | None:
        value = self.values.get(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default

    def text(self, key: str, default: str = "") -> str:
        value = self.values.get(key)
        return value if isinstance(value, str) else default


@dataclass
class LayerCall:
    """One `nnet::<func><...>(...)` call in the top function, with what it refers to."""

    index: int  # position in the top function
    func: str  # e.g. 'dense', 'conv_2d_cl', 'relu', 'softmax'
    name: str  # the Keras layer name from the trailing comment (or the output variable)
    template_args: list[str]
    args: list[str]
    config: ConfigStruct | None
    input_type: FixedType | None
    output_type: FixedType | None
    input_type_name: str = ""
    output_type_name: str = ""
    weights: np.ndarray | None = None  # kernel values as written (float)
    biases: np.ndarray | None = None
    extra_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    stream_depth: int | None = None  # depth of this call's output FIFO (io_stream / dataflow)


@dataclass
class HlsProject:
    path: Path
    project_name: str
    backend: str
    io_type: str
    part: str
    clock_period_ns: float
    clock_uncertainty: float  # fraction of the period
    strategy: str
    reuse_factor: int
    top_pragma: str  # 'pipeline', 'dataflow' or ''
    typedefs: dict[str, str]
    structs: dict[str, ConfigStruct]
    calls: list[LayerCall]
    input_types: list[FixedType]
    input_sizes: list[int]
    hls4ml_version: str = ""
    notes: list[str] = field(default_factory=list)

    def resolve_type(self, name: str) -> FixedType | None:
        seen = set()
        while name in self.typedefs and name not in seen:
            seen.add(name)
            name = self.typedefs[name]
        return parse_type(name)


# ---------------------------------------------------------------- C++ text helpers

_COMMENT_BLOCK = re.compile(r"/\*.*?\*/", re.S)


def _strip_block_comments(text: str) -> str:
    return _COMMENT_BLOCK.sub("", text)


def _split_top(text: str, sep: str = ",") -> list[str]:
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    tail = "".join(cur).strip()
    if tail:
        out.append(tail)
    return out


def _safe_eval(expr: str, names: dict[str, object]) -> float | None:
    """Evaluate a numeric C++ constant expression (DIV_ROUNDUP, MIN, MAX, + - * / %, names of
    earlier constants) without eval(); None when it is not numeric."""
    expr = expr.strip().rstrip("f")
    expr = re.sub(r"\b(\d+)[uUlL]+\b", r"\1", expr)
    expr = expr.replace("::", "__")
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return None

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            value = names.get(node.id)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            raise ValueError(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                if isinstance(a, int) and isinstance(b, int):
                    return a // b if b else 0  # C integer division
                return a / b
            if isinstance(node.op, ast.Mod):
                return a % b
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [ev(a) for a in node.args]
            fn = node.func.id
            if fn == "DIV_ROUNDUP" and len(args) == 2:
                return int(math.ceil(args[0] / args[1])) if args[1] else 0
            if fn == "MIN":
                return min(args)
            if fn == "MAX":
                return max(args)
            if fn in ("floorf", "floor"):
                return math.floor(args[0])
            if fn in ("ceilf", "ceil"):
                return math.ceil(args[0])
        raise ValueError(ast.dump(node))

    try:
        return ev(tree)
    except (ValueError, ZeroDivisionError, TypeError, RecursionError):
        return None


_STRUCT = re.compile(r"struct\s+(\w+)\s*:\s*([\w:]+)\s*\{", re.M)


def parse_parameters(text: str, macros: dict[str, float] | None = None) -> dict[str, ConfigStruct]:
    """Config structs of parameters.h (`struct config2 : nnet::dense_config { ... };`); `macros` are
    the numeric #defines of defines.h, which hls4ml up to 0.6 used for layer sizes (N_LAYER_2)."""
    text = _strip_block_comments(text)
    macros = macros or {}
    structs: dict[str, ConfigStruct] = {}
    for m in _STRUCT.finditer(text):
        start, depth, i = m.end(), 1, m.end()
        while i < len(text) and depth:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
            i += 1
        body = text[start : i - 1]
        st = ConfigStruct(m.group(1), m.group(2))
        for stmt in body.split(";"):
            stmt = re.sub(r"//[^\n]*", "", stmt).strip()
            if not stmt:
                continue
            sm = re.match(r"static\s+(?:const|constexpr)\s+(?:const\s+)?([\w:<>\s*,]+?)\s+(\w+)\s*(?:\[[^\]]*\])?\s*=\s*(.+)$", stmt, re.S)
            if sm:
                key, raw = sm.group(2), " ".join(sm.group(3).split())
                value = _safe_eval(raw, {**macros, **st.values})
                if value is None:
                    if raw in ("true", "false"):
                        value = raw == "true"
                    else:
                        value = raw
                st.values[key] = value
                continue
            tm = re.match(r"typedef\s+(.+?)\s+(\w+)$", stmt, re.S)
            if tm:
                st.types[tm.group(2)] = " ".join(tm.group(1).split())
                continue
            um = re.search(r"using\s+(\w+)\s*=\s*(.+)$", stmt, re.S)
            if um:
                st.templates[um.group(1)] = " ".join(um.group(2).split())
        structs[st.name] = st
    return structs


_TYPEDEF = re.compile(r"^\s*typedef\s+(.+?)\s+(\w+)\s*;", re.M)


def parse_defines(text: str) -> dict[str, str]:
    return {m.group(2): " ".join(m.group(1).split()) for m in _TYPEDEF.finditer(_strip_block_comments(text))}


_DEFINE = re.compile(r"^\s*#define\s+(\w+)\s+([^\n]+?)\s*(?://[^\n]*)?$", re.M)


def parse_macros(text: str) -> dict[str, float]:
    """Numeric `#define N_LAYER_2 64` macros of defines.h (hls4ml <= 0.6 writes layer sizes so)."""
    names: dict[str, float] = {}
    for m in _DEFINE.finditer(_strip_block_comments(text)):
        value = _safe_eval(m.group(2), names)
        if value is not None:
            names[m.group(1)] = value
    return names


_CALL = re.compile(r"nnet::(\w+)\s*<")


def _parse_calls(body: str) -> list[tuple[str, list[str], list[str], str]]:
    """(func, template args, call args, trailing comment) for each nnet:: call statement."""
    out = []
    for line_no, line in enumerate(body.splitlines()):
        code, _, comment = line.partition("//")
        m = _CALL.search(code)
        if not m or "load_weights" in code or code.strip().startswith("#"):
            continue
        i, depth = m.end(), 1
        while i < len(code) and depth:
            if code[i] == "<":
                depth += 1
            elif code[i] == ">":
                depth -= 1
            i += 1
        targs = _split_top(code[m.end() : i - 1])
        rest = code[i:].strip()
        if not rest.startswith("("):
            continue
        j, depth = 1, 1
        while j < len(rest) and depth:
            if rest[j] == "(":
                depth += 1
            elif rest[j] == ")":
                depth -= 1
            j += 1
        args = _split_top(rest[1 : j - 1])
        out.append((m.group(1), targs, args, comment.strip()))
    return out


def _read_array(weights_dir: Path, name: str) -> tuple[np.ndarray | None, bool]:
    """(values, found) of weights/<name>.txt, or of the initialiser in weights/<name>.h; values is
    None when the file exists but holds something else than plain numbers (e.g. the structs of
    compressed or exponential weights)."""
    txt = weights_dir / f"{name}.txt"
    header = weights_dir / f"{name}.h"
    text = None
    if txt.is_file():
        text = txt.read_text()
    elif header.is_file():
        m = re.search(r"\[[^\]]*\]\s*=\s*\{(.*?)\}\s*;", header.read_text(), re.S)
        if m:
            text = m.group(1)
    else:
        return None, False
    if text is None:
        return None, True
    items = [t for t in re.split(r"[,\s]+", text.strip()) if t]
    try:
        return np.array([float(t) for t in items], dtype=np.float64), True
    except ValueError:
        return None, True


_WEIGHT_FUNCS = {"dense", "conv_1d_cl", "conv_2d_cl", "conv_1d_cf", "conv_2d_cf", "pointwise_conv_1d_cl",
                 "pointwise_conv_2d_cl", "depthwise_conv_1d_cl", "depthwise_conv_2d_cl", "normalize",
                 "einsum_dense"}


def read_project(path: Path) -> HlsProject:
    """Parse an hls4ml project folder; HwgenError naming the missing/broken file otherwise."""
    path = Path(path)
    if not path.is_dir():
        raise HwgenError(f"{path} is not a directory; pass the hls4ml project folder (the one holding hls4ml_config.yml)")
    cfg_path = path / "hls4ml_config.yml"
    if not cfg_path.is_file():
        raise HwgenError(
            f"{path} is not an hls4ml project: no hls4ml_config.yml (write the project with "
            "hls4ml's `hls_model.write()` or pass the folder that holds it)"
        )
    try:
        cfg = yaml.load(cfg_path.read_text(), Loader=_TagTolerantLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise HwgenError(f"{cfg_path} is not valid YAML: {exc}") from None
    if not isinstance(cfg, dict):
        raise HwgenError(f"{cfg_path} must be a mapping (hls4ml writes one)")
    firmware = path / "firmware"
    name = str(cfg.get("ProjectName") or "myproject")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise HwgenError(f"{cfg_path}: ProjectName {name!r} is not a C identifier")
    needed = [firmware / "parameters.h", firmware / "defines.h", firmware / f"{name}.cpp"]
    missing = [str(p.relative_to(path)) for p in needed if not p.is_file()]
    if missing:
        raise HwgenError(
            f"{path} is not a complete hls4ml project: missing {', '.join(missing)} "
            "(re-run hls4ml's write(); the estimator reads the generated firmware, not the Keras model)"
        )
    defines_text = (firmware / "defines.h").read_text()
    typedefs = parse_defines(defines_text)
    macros = parse_macros(defines_text)
    structs = parse_parameters((firmware / "parameters.h").read_text(), macros)
    top_text = _strip_block_comments((firmware / f"{name}.cpp").read_text())
    hls_cfg = cfg.get("HLSConfig") or {}
    model_cfg = hls_cfg.get("Model") or {}
    period = cfg.get("ClockPeriod", 5)
    try:
        period = float(period)
    except (TypeError, ValueError):
        raise HwgenError(f"{cfg_path}: ClockPeriod {period!r} is not a number (ns)") from None
    unc = cfg.get("ClockUncertainty")
    backend = str(cfg.get("Backend") or "Vivado")
    unc_frac = None
    if isinstance(unc, str) and unc.strip().endswith("%"):
        try:
            unc_frac = float(unc.strip()[:-1]) / 100.0
        except ValueError:
            unc_frac = None
    elif isinstance(unc, (int, float)):
        unc_frac = float(unc) / period if unc > 1 else float(unc)
    if unc_frac is None:
        unc_frac = 0.27 if backend.lower().startswith("vitis") else 0.125

    m = re.search(r"void\s+" + re.escape(name) + r"\s*\((.*?)\)\s*\{", top_text, re.S)
    if not m:
        raise HwgenError(f"{firmware / (name + '.cpp')}: no top function `void {name}(...)` found")
    params = _split_top(m.group(1))
    body = top_text[m.end() :]
    proj = HlsProject(
        path=path, project_name=name, backend=backend, io_type=str(cfg.get("IOType") or "io_parallel"),
        # XilinxPart: hls4ml <= 0.6
        part=str(cfg.get("Part") or cfg.get("XilinxPart") or ""), clock_period_ns=period, clock_uncertainty=unc_frac,
        strategy=str(model_cfg.get("Strategy") or "Latency"), reuse_factor=int(model_cfg.get("ReuseFactor") or 1),
        top_pragma="", typedefs=typedefs, structs=structs, calls=[], input_types=[], input_sizes=[],
        hls4ml_version=str(cfg.get("Version") or ""),
    )
    if re.search(r"#pragma\s+HLS\s+DATAFLOW", body, re.I):
        proj.top_pragma = "dataflow"
    elif re.search(r"#pragma\s+HLS\s+PIPELINE", body, re.I):
        proj.top_pragma = "pipeline"
    top_params: list[tuple[str, FixedType, int]] = []
    for p in params:
        pm = re.match(r"(?:hls::stream\s*<\s*)?([\w:]+(?:<.*>)?)\s*>?\s*&?\s*(\w+)\s*(\[(.*)\])?$", p.strip())
        if not pm:
            continue
        ftype = proj.resolve_type(pm.group(1))
        if ftype is None:
            continue
        size = None
        if pm.group(4):
            value = _safe_eval(pm.group(4), macros)
            size = int(value) if value else None
        top_params.append((pm.group(2), ftype, size or ftype.pack))
    depths = {dm.group(1): int(dm.group(2)) for dm in re.finditer(r"#pragma\s+HLS\s+STREAM\s+variable=(\w+)\s+depth=(\d+)", body)}
    weights_dir = firmware / "weights"
    for idx, (func, targs, args, comment) in enumerate(_parse_calls(body)):
        config = None
        for t in reversed(targs):
            if t in structs:
                config = structs[t]
                break
        in_name = targs[0] if targs else ""
        out_name = ""
        if func in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate1d",
                    "concatenate2d", "concatenate3d", "dot1d") and len(targs) >= 3:
            out_name = targs[2]
        elif len(targs) >= 2:
            out_name = targs[1]
        call = LayerCall(
            index=idx, func=func, name=(comment.split()[0] if comment else (args[1] if len(args) > 1 else func)),
            template_args=targs, args=args, config=config,
            input_type=proj.resolve_type(in_name) if in_name else None,
            output_type=proj.resolve_type(out_name) if out_name else None,
            input_type_name=in_name, output_type_name=out_name,
        )
        if len(args) > 1 and args[1] in depths:
            call.stream_depth = depths[args[1]]
        if func in _WEIGHT_FUNCS or func.startswith(("conv_", "dense", "separable_conv", "depthwise_conv")):
            arrays = [a for a in args[2:] if re.fullmatch(r"[A-Za-z_]\w*", a)]
            loaded = []
            for a in arrays:
                values, found = _read_array(weights_dir, a)
                if not found and not loaded:
                    raise HwgenError(
                        f"{weights_dir}: weights '{a}' of layer {call.name} not found (expected {a}.txt or "
                        f"{a}.h, as hls4ml's write() creates them)"
                    )
                if found and values is None and not loaded:
                    proj.notes.append(f"{call.name}: weights '{a}' are not plain numbers; products counted as general")
                loaded.append((a, values))
            if loaded:
                call.weights = loaded[0][1]
            if len(loaded) > 1:
                call.biases = loaded[1][1]
            for a, arr in loaded[2:]:
                if arr is not None:
                    call.extra_arrays[a] = arr
        proj.calls.append(call)
    outputs = {c.args[1] for c in proj.calls if len(c.args) > 1}
    for pname, ftype, size in top_params:
        if pname not in outputs:
            proj.input_types.append(ftype)
            proj.input_sizes.append(size)
    if not proj.calls:
        raise HwgenError(f"{firmware / (name + '.cpp')}: no nnet:: layer calls found in the top function")
    return proj
