"""Open-source hardware path: QKeras -> da4ml fixed-point graph -> Verilog -> Icarus/Verilator
RTL simulation -> Yosys synthesis -> nextpnr place-and-route (Lattice).

Entry point: `run_open_synth(run_dir, board)` (hwgen.synth.open.open_flow). Modules:
    trace      QKeras model -> da4ml CombLogic, bit-exact QKeras rounding (half to even, saturation)
    verilog    combinational + pipelined Verilog, clock-driven pipeline depth, identifier sanitizing
    rtlsim     testbench from sim/rtl_tb.v, Icarus (or Verilator) run, bit-exact comparison
    yosys      synth_xilinx / synth_ecp5 / synth_ice40 and cell-count mapping
    nextpnr    nextpnr-ecp5 / nextpnr-ice40 (in-context), Fmax, utilization, critical path
    uart       UART board wrapper (sim/uart_top.v) and its byte protocol, Icarus testbench
    bitstream  board pins -> .pcf / .lpf, icepack / ecppack
    postroute  gate-level simulation of nextpnr's routed netlist with Yosys's cell models
    board_flow the steps around nextpnr: what is placed, bitstream and post-route after routing
"""

from hwgen.synth.open.open_flow import OpenSynthResult, run_open_synth

__all__ = ["OpenSynthResult", "run_open_synth"]
