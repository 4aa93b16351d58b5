// hwgen UART testbench (template; the @-delimited fields are filled in by hwgen.synth.open.uart).
// Drives the board wrapper's serial line like a host: for each of N input vectors (hex words
// read from @IN_FILE@) it sends IN_BYTES bytes, 8N1 at CLKS_PER_BIT clocks per bit, then
// receives OUT_BYTES bytes from tx and writes the reassembled answer to @OUT_FILE@, one hex word
// per vector. Before the first vector it sends JUNK_BYTES stray bytes (when > 0) and stays idle
// for longer than the wrapper's resynchronization time, so the partial-frame drop is exercised. A
// missing start bit (timeout) or stop bit ends the simulation with an error line. With LOG_BYTES
// every byte is also logged (`rx XX` host to board, `tx XX` board to host) to @BYTES_FILE@.
`timescale 1ns / 1ps

module hwgen_uart_tb;
    localparam integer N = @N@;
    localparam integer IN_W = @IN_W@;
    localparam integer OUT_W = @OUT_W@;
    localparam integer IN_BYTES = @IN_BYTES@;
    localparam integer OUT_BYTES = @OUT_BYTES@;
    localparam integer CLKS_PER_BIT = @CLKS_PER_BIT@;
    localparam integer IDLE_CLKS = @IDLE_CLKS@;
    localparam integer JUNK_BYTES = @JUNK_BYTES@;
    localparam integer TIMEOUT_CLKS = @TIMEOUT_CLKS@;
    localparam integer LOG_BYTES = @LOG_BYTES@;  // 1: every byte on the line goes to @BYTES_FILE@

    reg clk = 1'b0;
    reg rx = 1'b1;
    wire tx;
    // The pins reach the DUT through wires: a routed ECP5 netlist's TRELLIS_IO pads are inout, and
    // Icarus then coerces the DUT's input ports to inout, which a reg cannot drive.
    wire clk_pin = clk;
    wire rx_pin = rx;
    reg [IN_W-1:0] vectors [0:N-1];
    reg [IN_BYTES*8-1:0] word_in;
    reg [OUT_BYTES*8-1:0] word_out;
    reg [7:0] b;
    integer j, k, fd, fb;

    @DUT@

    always #5 clk = ~clk;

    task send_byte(input [7:0] value);
        integer i;
        begin
            if (fb != 0)
                $fwrite(fb, "rx %h\n", value);
            rx = 1'b0;
            repeat (CLKS_PER_BIT) @(negedge clk);
            for (i = 0; i < 8; i = i + 1) begin
                rx = value[i];
                repeat (CLKS_PER_BIT) @(negedge clk);
            end
            rx = 1'b1;
            repeat (CLKS_PER_BIT) @(negedge clk);
        end
    endtask

    task recv_byte(output [7:0] value);
        integer i, waited;
        begin
            waited = 0;
            while (tx !== 1'b0) begin
                @(negedge clk);
                waited = waited + 1;
                if (waited > TIMEOUT_CLKS) begin
                    $display("hwgen_uart_tb: ERROR no start bit within %0d clocks (vector %0d)", TIMEOUT_CLKS, j);
                    $finish;
                end
            end
            repeat (CLKS_PER_BIT / 2) @(negedge clk);
            if (tx !== 1'b0) begin
                $display("hwgen_uart_tb: ERROR start bit too short (vector %0d)", j);
                $finish;
            end
            for (i = 0; i < 8; i = i + 1) begin
                repeat (CLKS_PER_BIT) @(negedge clk);
                value[i] = tx;
            end
            repeat (CLKS_PER_BIT) @(negedge clk);
            if (tx !== 1'b1) begin
                $display("hwgen_uart_tb: ERROR missing stop bit (vector %0d)", j);
                $finish;
            end
            if (fb != 0)
                $fwrite(fb, "tx %h\n", value);
        end
    endtask

    initial begin
        $readmemh("@IN_FILE@", vectors);
        fd = $fopen("@OUT_FILE@", "w");
        if (fd == 0) begin
            $display("hwgen_uart_tb: cannot open @OUT_FILE@");
            $finish;
        end
        fb = LOG_BYTES ? $fopen("@BYTES_FILE@", "w") : 0;
        j = -1;
        repeat (4 * CLKS_PER_BIT) @(negedge clk);
        if (JUNK_BYTES > 0) begin
            for (k = 0; k < JUNK_BYTES; k = k + 1)
                send_byte(8'hA5 ^ k[7:0]);
            repeat (IDLE_CLKS + 4 * CLKS_PER_BIT) @(negedge clk);
        end
        for (j = 0; j < N; j = j + 1) begin
            word_in = vectors[j];  // zero-extended to whole bytes
            for (k = 0; k < IN_BYTES; k = k + 1)
                send_byte(word_in[k*8 +: 8]);
            for (k = 0; k < OUT_BYTES; k = k + 1) begin
                recv_byte(b);
                word_out[k*8 +: 8] = b;
            end
            $fwrite(fd, "%h\n", word_out[OUT_W-1:0]);
        end
        $fclose(fd);
        if (fb != 0)
            $fclose(fb);
        $display("hwgen_uart_tb: wrote %0d output vectors", N);
        $finish;
    end
endmodule
