"""The PyTorch engine: hwgen's ONNX graph rebuilt as PyTorch operations, used when torch is importable.

It is not a dependency of hwgen: GPU machines often come with PyTorch (this workplace's GPU image
does), and there it gives GPU rows without installing anything. The graph's initializers become
float32 tensors on the device and each node one torch call (`addmm` for Gemm, `conv2d`,
`max_pool2d`, `round` (half to even, as ONNX Round), `clamp`, `permute`, `flatten`), so it
computes the same network with the same weights as ONNX Runtime and numpy. TF32 tensor-core
math is switched off so that GPU figures are for float32 arithmetic.

Modes: ``eager`` (CPU: numpy in and out through torch.from_numpy; GPU: the input already on the
device, logits copied to host numpy, which waits for the device) and, on a GPU, ``cuda_graph``
(the same call captured once as a CUDA graph and replayed, logits copied to host): the lowest
per-call overhead PyTorch offers. CPU threads: torch.set_num_threads per row.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from hwgen.errors import HwgenError

ENGINE = "torch"


def available() -> tuple[Any, str | None]:
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - an optional engine
        return None, f"PyTorch is not importable here ({type(exc).__name__}: {exc})"
    return torch, None


def gpu_status(torch) -> dict[str, Any]:
    if torch is None:
        return {"available": False, "reason": "PyTorch is not installed"}
    try:
        if not torch.cuda.is_available():
            built = getattr(torch.version, "cuda", None)
            why = "a CPU-only build" if not built else f"CUDA {built} build, but no GPU visible (torch.cuda.is_available() is False)"
            return {"available": False, "reason": f"PyTorch {torch.__version__}: {why}"}
        name = torch.cuda.get_device_name(0)
    except Exception as exc:  # noqa: BLE001
        return {"available": False, "reason": f"PyTorch CUDA query failed: {type(exc).__name__}: {exc}"[:300]}
    return {"available": True, "reason": None, "device_name": name, "cuda": getattr(torch.version, "cuda", None)}


def _attrs(node) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def compile_graph(torch, model_bytes: bytes, device: str) -> Callable:
    """A function torch tensor (on `device`) -> logits tensor evaluating hwgen's ONNX graph."""
    import onnx
    import torch.nn.functional as F
    from onnx import numpy_helper

    proto = onnx.load_from_string(model_bytes)
    g = proto.graph
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}

    def tensor(name: str):
        value = np.array(consts[name], copy=True, order="C")  # writable: torch warns about read-only buffers
        dtype = torch.int64 if value.dtype.kind in "iu" else torch.float32
        return torch.as_tensor(value, dtype=dtype, device=device)

    steps: list[tuple[str, Callable, str]] = []
    for node in g.node:
        a = _attrs(node)
        op, ins = node.op_type, list(node.input)
        if op == "Gemm":
            if a.get("transA", 0) or a.get("transB", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                raise HwgenError(f"torch engine: Gemm {node.name} with transposes/alpha/beta is not supported")
            w = tensor(ins[1])
            if len(ins) > 2:
                b = tensor(ins[2])
                fn = lambda x, w=w, b=b: torch.addmm(b, x, w)  # noqa: E731
            else:
                fn = lambda x, w=w: x @ w  # noqa: E731
        elif op == "MatMul":
            w = tensor(ins[1])
            fn = lambda x, w=w: x @ w  # noqa: E731
        elif op == "Add":
            c = tensor(ins[1])
            fn = lambda x, c=c: x + c  # noqa: E731
        elif op == "Mul":
            c = tensor(ins[1])
            fn = lambda x, c=c: x * c  # noqa: E731
        elif op == "Relu":
            fn = torch.relu
        elif op == "Round":
            fn = torch.round
        elif op == "Clip":
            lo, hi = float(consts[ins[1]]), float(consts[ins[2]])
            fn = lambda x, lo=lo, hi=hi: torch.clamp(x, lo, hi)  # noqa: E731
        elif op == "Transpose":
            perm = tuple(a["perm"])
            fn = lambda x, p=perm: x.permute(*p)  # noqa: E731
        elif op == "Flatten":
            if a.get("axis", 1) != 1:
                raise HwgenError(f"torch engine: Flatten {node.name} with axis != 1 is not supported")
            fn = lambda x: x.reshape(x.shape[0], -1)  # noqa: E731
        elif op == "Reshape":
            shape = [int(v) for v in consts[ins[1]]]
            fn = lambda x, s=shape: x.reshape([x.shape[0] if v == 0 and i == 0 else v for i, v in enumerate(s)])  # noqa: E731
        elif op == "Identity":
            fn = lambda x: x  # noqa: E731
        elif op in ("Conv", "MaxPool"):
            top, left, bottom, right = a.get("pads", [0, 0, 0, 0])
            strides = tuple(a.get("strides", [1, 1]))
            symmetric = top == bottom and left == right
            pad = (left, right, top, bottom)
            if op == "Conv":
                if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
                    raise HwgenError(f"torch engine: grouped/dilated Conv {node.name} is not supported")
                w = tensor(ins[1])
                b = tensor(ins[2]) if len(ins) > 2 else None
                if symmetric:
                    fn = lambda x, w=w, b=b, s=strides, p=(top, left): F.conv2d(x, w, b, stride=s, padding=p)  # noqa: E731
                else:
                    fn = lambda x, w=w, b=b, s=strides, pad=pad: F.conv2d(F.pad(x, pad), w, b, stride=s)  # noqa: E731
            else:
                k = tuple(a["kernel_shape"])
                if symmetric and top * 2 <= k[0] and left * 2 <= k[1]:
                    fn = lambda x, k=k, s=strides, p=(top, left): F.max_pool2d(x, k, s, padding=p)  # noqa: E731
                else:
                    fn = lambda x, k=k, s=strides, pad=pad: F.max_pool2d(F.pad(x, pad, value=float("-inf")), k, s)  # noqa: E731
        else:
            raise HwgenError(f"torch engine: ONNX operator {op} ({node.name}) is not supported")
        steps.append((node.output[0], fn, ins[0]))
    in_name, out_name = g.input[0].name, g.output[0].name
    if not (steps and steps[-1][0] == out_name
            and all(src == (steps[i - 1][0] if i else in_name) for i, (_, _, src) in enumerate(steps))):
        raise HwgenError("torch engine: only chains of nodes are supported")
    fns = [fn for _, fn, _ in steps]

    def run(x):
        for f in fns:
            x = f(x)
        return x

    return run


def float32_math(torch) -> None:
    """No TF32 on GPUs (PyTorch allows it for cuDNN convolutions by default)."""
    try:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    except Exception:  # noqa: BLE001
        pass


def cpu_fn(torch, run: Callable, x: np.ndarray) -> Callable[[], np.ndarray]:
    def call():
        with torch.inference_mode():
            return run(torch.from_numpy(x)).numpy()

    return call


def gpu_eager_fn(torch, run: Callable, x: np.ndarray) -> Callable[[], np.ndarray]:
    xd = torch.as_tensor(x, device="cuda")

    def call():
        with torch.inference_mode():
            return run(xd).cpu().numpy()

    return call


def gpu_graph_fn(torch, run: Callable, x: np.ndarray) -> Callable[[], np.ndarray]:
    """The call captured once as a CUDA graph; each call replays it and copies the logits to host."""
    static_in = torch.as_tensor(x, device="cuda")
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.no_grad():
        with torch.cuda.stream(side):
            for _ in range(3):
                run(static_in)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = run(static_in)

    def call():
        graph.replay()
        return static_out.cpu().numpy()

    call._keep = (graph, static_in, static_out)
    return call


class num_threads:
    """torch.set_num_threads for a block of rows, restored afterwards."""

    def __init__(self, torch, n: int):
        self.torch, self.n, self.old = torch, n, None

    def __enter__(self):
        self.old = self.torch.get_num_threads()
        self.torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        self.torch.set_num_threads(self.old)
        return False
