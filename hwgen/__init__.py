"""hwgen: turn a quantized, pruned neural network into FPGA hardware and see what it costs."""

__version__ = "0.1.0"
