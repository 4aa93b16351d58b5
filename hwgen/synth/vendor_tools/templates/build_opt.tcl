# Written by hwgen (hwgen/synth/vendor_tools/flow.py) into its working copy of the HLS project:
# hls4ml's Vitis build_prj.tcl takes the steps to run from this file, not from its arguments.
array set opt {
${options}}
