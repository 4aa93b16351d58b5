// hwgen RTL-simulation testbench (template; @NAME@ fields are filled in by hwgen.synth.open.rtlsim).
// Reads N input vectors (one hex word per line, input 0 in the least significant bits) from
// @IN_FILE@, drives them into the design under test one per clock cycle (pipelined) or one per
// time step (combinational), and writes one hex output word per vector to @OUT_FILE@.
// For a pipelined design the output of vector j is taken after the clock edge j + LATENCY - 1,
// so a wrong LATENCY or a wrong initiation interval shows up as mismatching outputs.
`timescale 1ns / 1ps

module hwgen_tb;
    localparam integer N = @N@;
    localparam integer IN_W = @IN_W@;
    localparam integer OUT_W = @OUT_W@;
    localparam integer LATENCY = @LATENCY@;  // register ranks from input to output (0: combinational)

    reg [IN_W-1:0] vectors [0:N-1];
    reg [IN_W-1:0] model_inp;
    wire [OUT_W-1:0] model_out;
    reg clk;
    integer j, fd;

    @DUT@

    initial begin
        clk = 1'b0;
        model_inp = {IN_W{1'b0}};
        $readmemh("@IN_FILE@", vectors);
        fd = $fopen("@OUT_FILE@", "w");
        if (fd == 0) begin
            $display("hwgen_tb: cannot open @OUT_FILE@");
            $finish;
        end
        if (LATENCY == 0) begin
            for (j = 0; j < N; j = j + 1) begin
                model_inp = vectors[j];
                #1;
                $fwrite(fd, "%h\n", model_out);
            end
        end else begin
            for (j = 0; j < N + LATENCY - 1; j = j + 1) begin
                if (j < N)
                    model_inp = vectors[j];
                else
                    model_inp = {IN_W{1'b0}};
                #5 clk = 1'b1;
                #1;
                if (j >= LATENCY - 1)
                    $fwrite(fd, "%h\n", model_out);
                #4 clk = 1'b0;
            end
        end
        $fclose(fd);
        $display("hwgen_tb: wrote %0d output vectors", N);
        $finish;
    end
endmodule
