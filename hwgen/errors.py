"""One error type for everything a user can fix; the CLI prints it as one line and exits 2."""


class HwgenError(Exception):
    """A problem with the user's input or environment, with a message that says what to fix."""


class ToolMissing(HwgenError):
    """An external tool (yosys, iverilog, vitis_hls, ...) is not installed or not on PATH."""
