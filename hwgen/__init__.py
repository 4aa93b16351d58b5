"""hwgen: turn a quantized, pruned neural network into FPGA hardware and see what it costs.

The Python API (`hwgen.flow`, `hwgen.load_run`, `hwgen.run_sweep`, `hwgen.Run`) is imported on
first use, so `import hwgen` stays cheap (no TensorFlow). See hwgen.api.
"""

__version__ = "0.1.0"

_API = ("flow", "load_run", "run_sweep", "Run")


def __getattr__(name: str):
    if name in _API:
        from hwgen import api

        return getattr(api, name)
    raise AttributeError(f"module 'hwgen' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
