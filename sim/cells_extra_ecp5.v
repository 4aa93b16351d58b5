// hwgen: simulation models for ECP5 cells that nextpnr's routed netlist uses but Yosys's
// share/ecp5/cells_sim.v does not model (Yosys has them only as blackboxes in cells_bb.v).
// DCCA is the global clock buffer with a clock enable (Lattice FPGA-TN-02200, ECP5 sysCLOCK
// PLL/DLL Design and Usage Guide: CLKO follows CLKI while CE is high). nextpnr leaves CE
// unconnected, which the fabric ties high: an unconnected (z) CE counts as enabled here.
`timescale 1ns / 1ps

module DCCA (input CLKI, input CE, output CLKO);
    wire ce_on = (CE === 1'b0) ? 1'b0 : 1'b1;
    assign CLKO = CLKI & ce_on;
endmodule
