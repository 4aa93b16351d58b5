"""Synthesis sources: everything that turns a run's HLS project or trained model into
resource, latency and timing figures, each labelled with where it came from.

- `sources`: the one protocol (`name`, `unavailable(board)`, `run(ctx) -> SynthOutcome`) and
  the registry that `--synth auto` asks; the pipeline runs each source as a `synth:<name>` stage.
- `vendor_tools`: Vitis/Vivado HLS (and Vivado) runs when installed, and the readers of their
  reports, one module per tool family.
- `open`: the open path, da4ml Verilog -> Icarus RTL simulation -> Yosys -> nextpnr, down to
  a bitstream and a gate-level check of the routed design for open boards.
- `estimate`: hwgen's analytical estimate of the hls4ml design (calibrated on genuine vendor
  reports, with an uncertainty band).
"""
