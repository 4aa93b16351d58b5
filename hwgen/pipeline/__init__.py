"""The one pipeline of stages that every command runs.

A stage (`hwgen.pipeline.stages`) has a name, the stages it requires, and a `run(ctx)` that
reads earlier artifacts from the run directory and writes its own typed result there. One
`Runner` (`hwgen.pipeline.runner`) owns the sequence: the manifest (run.json, with a record of
each stage applied), timings, progress lines, notices, staging and resumption. `hwgen flow`,
`hwgen convert`, `hwgen synth RUN`, `hwgen report RUN` and a sweep point are each a short
list of stage names (`hwgen.pipeline.flows`) over the same runner and the same frozen
`RunContext` (`hwgen.pipeline.context`).

Nothing here imports TensorFlow or hls4ml at import time; stages import what they need.
"""

from hwgen.pipeline.context import DEFAULT_BOARD, SYNTH_CHOICES, FlowOptions, RunContext
from hwgen.pipeline.flows import FlowResult, resolve_synth, run_flow, run_on_existing

__all__ = [
    "DEFAULT_BOARD", "SYNTH_CHOICES", "FlowOptions", "RunContext", "FlowResult", "resolve_synth", "run_flow",
    "run_on_existing",
]
