"""The numpy engine: hwgen's ONNX graph evaluated with plain numpy (BLAS matrix products).

The graph is read once into a list of numpy closures (weights as float32 C-contiguous arrays),
so a call is the layers' numpy operations and nothing else: ``x @ W + b`` for Gemm, an im2col
gather (indices precomputed per input shape) and one 2-D matmul for Conv, a window max for MaxPool, and `np.rint` (half to
even, as ONNX Round and tf.round) for the quantized activations. Only the operators that
`hwgen.onnx_export` writes are understood; another graph raises HwgenError.

Threads: numpy's BLAS pool, bounded with threadpoolctl for each row (the row's ``threads``).
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from hwgen.errors import HwgenError

ENGINE = "numpy"


def _attrs(node) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _gather_index(chw: tuple[int, int, int], kernel, strides, pads, per_channel: bool):
    """Flat indices into an NCHW sample (C*H*W values, plus one fill value at index C*H*W) that lay out
    the sliding windows: (OH*OW, C*kh*kw) for a convolution (patch order C, kh, kw as ONNX weights),
    or (C, OH*OW, kh*kw) for pooling. Padded positions point at the fill value."""
    C, H, W = chw
    (kh, kw), (sh, sw) = kernel, strides
    top, left, bottom, right = pads
    OH = (H + top + bottom - kh) // sh + 1
    OW = (W + left + right - kw) // sw + 1
    oh, ow = np.meshgrid(np.arange(OH), np.arange(OW), indexing="ij")
    ki, kj = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
    h = (oh.reshape(-1, 1) * sh - top) + ki.reshape(1, -1)  # (OH*OW, kh*kw)
    w = (ow.reshape(-1, 1) * sw - left) + kj.reshape(1, -1)
    inside = (h >= 0) & (h < H) & (w >= 0) & (w < W)
    c = np.arange(C).reshape(C, 1, 1)
    flat = np.where(inside[None], c * H * W + np.clip(h, 0, H - 1)[None] * W + np.clip(w, 0, W - 1)[None], C * H * W)
    if not per_channel:  # (C, P, K) -> (P, C*K)
        flat = flat.transpose(1, 0, 2).reshape(OH * OW, C * kh * kw)
    return flat.astype(np.intp), OH, OW, bool((~inside).any())


def _gathered(x: np.ndarray, idx: np.ndarray, padded: bool, fill: float) -> np.ndarray:
    """x's windows, (N, *idx.shape), C-contiguous (np.take, unlike fancy indexing, returns C order)."""
    flat = x.reshape(x.shape[0], -1)
    if padded:
        flat = np.concatenate([flat, np.full((x.shape[0], 1), fill, dtype=x.dtype)], axis=1)
    return np.take(flat, idx.ravel(), axis=1).reshape(x.shape[0], *idx.shape)


def compile_graph(model_bytes: bytes) -> Callable[[np.ndarray], np.ndarray]:
    """A function x (float32 numpy) -> logits that evaluates the ONNX graph with numpy."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load_from_string(model_bytes)
    g = proto.graph
    consts = {t.name: np.ascontiguousarray(numpy_helper.to_array(t)) for t in g.initializer}
    steps: list[tuple[str, Callable, str]] = []  # (output name, fn, input name)

    for node in g.node:
        a = _attrs(node)
        op = node.op_type
        ins = list(node.input)
        if op == "Gemm":
            if a.get("transA", 0) or a.get("transB", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                raise HwgenError(f"numpy engine: Gemm {node.name} with transposes/alpha/beta is not supported")
            w = consts[ins[1]].astype(np.float32)
            bias = consts[ins[2]].astype(np.float32) if len(ins) > 2 else None
            fn = (lambda x, w=w, b=bias: np.matmul(x, w) + b) if bias is not None else (lambda x, w=w: np.matmul(x, w))
        elif op == "MatMul":
            w = consts[ins[1]].astype(np.float32)
            fn = lambda x, w=w: np.matmul(x, w)  # noqa: E731
        elif op == "Add":
            c = consts[ins[1]]
            fn = lambda x, c=c: x + c  # noqa: E731
        elif op == "Mul":
            c = consts[ins[1]]
            fn = lambda x, c=c: x * c  # noqa: E731
        elif op == "Relu":
            fn = lambda x: np.maximum(x, np.float32(0))  # noqa: E731
        elif op == "Round":
            fn = np.rint
        elif op == "Clip":
            lo, hi = consts[ins[1]], consts[ins[2]]
            fn = lambda x, lo=lo, hi=hi: np.clip(x, lo, hi)  # noqa: E731
        elif op == "Transpose":
            perm = tuple(a["perm"])
            fn = lambda x, p=perm: np.transpose(x, p)  # noqa: E731
        elif op == "Flatten":
            if a.get("axis", 1) != 1:
                raise HwgenError(f"numpy engine: Flatten {node.name} with axis != 1 is not supported")
            fn = lambda x: x.reshape(x.shape[0], -1)  # noqa: E731
        elif op == "Reshape":
            shape = [int(v) for v in consts[ins[1]]]
            fn = lambda x, s=shape: x.reshape([x.shape[0] if v == 0 and i == 0 else v for i, v in enumerate(s)])  # noqa: E731
        elif op == "Identity":
            fn = lambda x: x  # noqa: E731
        elif op == "Conv":
            w = consts[ins[1]].astype(np.float32)  # (O, C, kh, kw)
            bias = consts[ins[2]].astype(np.float32) if len(ins) > 2 else np.zeros(w.shape[0], np.float32)
            kernel, strides = tuple(a["kernel_shape"]), tuple(a.get("strides", [1, 1]))
            pads = tuple(a.get("pads", [0, 0, 0, 0]))
            if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
                raise HwgenError(f"numpy engine: grouped/dilated Conv {node.name} is not supported")
            wmat = np.ascontiguousarray(w.reshape(w.shape[0], -1).T)  # (C*kh*kw, O)

            def fn(x, wmat=wmat, bias=bias, kernel=kernel, strides=strides, pads=pads, cache={}):  # noqa: B006
                key = x.shape[1:]
                if key not in cache:
                    cache[key] = _gather_index(key, kernel, strides, pads, per_channel=False)
                idx, oh, ow, padded = cache[key]
                cols = _gathered(x, idx, padded, 0.0)  # N, OH*OW, C*kh*kw
                y = cols.reshape(-1, cols.shape[-1]) @ wmat  # one 2-D BLAS product (a stacked matmul loops)
                y += bias
                return y.reshape(x.shape[0], oh, ow, -1).transpose(0, 3, 1, 2)
        elif op == "MaxPool":
            kernel, strides = tuple(a["kernel_shape"]), tuple(a.get("strides", [1, 1]))
            pads = tuple(a.get("pads", [0, 0, 0, 0]))

            def fn(x, kernel=kernel, strides=strides, pads=pads, cache={}):  # noqa: B006
                key = x.shape[1:]
                if key not in cache:
                    cache[key] = _gather_index(key, kernel, strides, pads, per_channel=True)
                idx, oh, ow, padded = cache[key]
                n, c, h, w = x.shape
                kh, kw = kernel
                if not padded and kernel == strides and h % kh == 0 and w % kw == 0:  # non-overlapping windows
                    return x.reshape(n, c, h // kh, kh, w // kw, kw).max(axis=(3, 5))
                return _gathered(x, idx, padded, -np.inf).max(axis=-1).reshape(n, c, oh, ow)
        else:
            raise HwgenError(f"numpy engine: ONNX operator {op} ({node.name}) is not supported")
        steps.append((node.output[0], fn, ins[0]))

    in_name = g.input[0].name
    out_name = g.output[0].name
    chain = all(src == (steps[i - 1][0] if i else in_name) for i, (_, _, src) in enumerate(steps))
    fns = [fn for _, fn, _ in steps]
    if chain and steps and steps[-1][0] == out_name:

        def run(x: np.ndarray) -> np.ndarray:
            for f in fns:
                x = f(x)
            return x

        return run

    def run_general(x: np.ndarray) -> np.ndarray:
        env = {in_name: x}
        for out, f, src in steps:
            env[out] = f(env[src])
        return env[out_name]

    return run_general


def blas_info() -> dict[str, Any]:
    """numpy's BLAS library, version, kernel (core type) and thread count (threadpoolctl)."""
    info: dict[str, Any] = {"numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    except Exception:  # noqa: BLE001 - informative only
        blas = []
    if blas:  # numpy's own BLAS (other packages may load another copy)
        p = next((b for b in blas if "numpy" in str(b.get("filepath", ""))), blas[0])
        info.update({"blas": p.get("internal_api"), "blas_version": p.get("version"),
                     "blas_architecture": p.get("architecture"), "blas_default_threads": p.get("num_threads")})
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var):
            info[var] = os.environ[var]
    return info


def version_label() -> str:
    info = blas_info()
    blas = f"+{info['blas']}-{info['blas_version']}" if info.get("blas") else ""
    return f"{np.__version__}{blas}"


class thread_limit:
    """Context manager bounding numpy's BLAS threads (no-op without threadpoolctl)."""

    def __init__(self, n: int):
        self.n = n
        self._ctl = None

    def __enter__(self):
        try:
            from threadpoolctl import threadpool_limits

            self._ctl = threadpool_limits(limits=self.n, user_api="blas")
        except Exception:  # noqa: BLE001 - the row records the requested count
            self._ctl = None
        return self

    def __exit__(self, *exc):
        if self._ctl is not None:
            self._ctl.restore_original_limits()
        return False
