// hwgen post-route testbench (template; the @-delimited fields are filled in by hwgen.synth.open.postroute).
// Simulates the routed netlist that nextpnr wrote (Verilog with the architecture's cell models)
// on the RTL testbench's vectors. The UART wrapper around the core is part of that netlist; to
// feed one vector per clock instead of one per serial frame, the vectors are forced onto the
// wrapper's core input register nets (core_in) and the answers read from its core_out nets, so
// every routed LUT, carry and flip-flop of the core is exercised at the core's latency and II=1.
// For vector j (applied before clock edge j) the answer is read after edge j + LATENCY - 1.
`timescale 1ns / 1ps

module hwgen_post_tb;
    localparam integer N = @N@;
    localparam integer IN_W = @IN_W@;
    localparam integer OUT_W = @OUT_W@;
    localparam integer LATENCY = @LATENCY@;

    reg clk = 1'b0;
    reg rx = 1'b1;
    wire tx;
    reg [IN_W-1:0] vectors [0:N-1];
    reg [IN_W-1:0] vin;
    wire [OUT_W-1:0] vout;
    // The pins reach the DUT through wires: a routed ECP5 netlist's TRELLIS_IO pads are inout, and
    // Icarus then coerces the DUT's input ports to inout, which a reg cannot drive.
    wire clk_pin = clk;
    wire rx_pin = rx;
    integer j, fd;

    @DUT@

@TAPS@

    // Icarus evaluates a forced bit-select only when the force executes: re-force per vector.
    task drive_inputs;
        begin
@FORCES@
        end
    endtask

    initial begin
        vin = {IN_W{1'b0}};
        $readmemh("@IN_FILE@", vectors);
        fd = $fopen("@OUT_FILE@", "w");
        if (fd == 0) begin
            $display("hwgen_post_tb: cannot open @OUT_FILE@");
            $finish;
        end
        for (j = 0; j < N + LATENCY - 1; j = j + 1) begin
            if (j < N)
                vin = vectors[j];
            else
                vin = {IN_W{1'b0}};
            drive_inputs;
            #5 clk = 1'b1;
            #1;
            if (j >= LATENCY - 1)
                $fwrite(fd, "%h\n", vout);
            #4 clk = 1'b0;
        end
        $fclose(fd);
        $display("hwgen_post_tb: wrote %0d output vectors", N);
        $finish;
    end
endmodule
