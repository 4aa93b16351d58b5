// hwgen UART board wrapper (template; the @-delimited fields are filled in by hwgen.synth.open.uart).
//
// Protocol (8N1 at @BAUD@ baud, @CLKS_PER_BIT@ clocks per bit at @CLK_HZ@ Hz):
//   host -> board  IN_BYTES bytes: model_inp, little endian (first byte = bits 7:0), zero-padded
//   board -> host  OUT_BYTES bytes: model_out of that vector, little endian, zero-padded
// One frame at a time: the host waits for the answer before sending the next vector. A partial
// frame is dropped when the line stays idle for IDLE_CLKS clocks, so the host can resynchronize
// by pausing. The core is the pipelined design (latency LATENCY cycles, II=1); its input is held
// while the answer is computed.
`timescale 1ns / 1ps

module @TOP@ (
    input clk,
    input rx,
    output tx
);
    localparam integer IN_W = @IN_W@;
    localparam integer OUT_W = @OUT_W@;
    localparam integer IN_BYTES = @IN_BYTES@;
    localparam integer OUT_BYTES = @OUT_BYTES@;
    localparam integer LATENCY = @LATENCY@;
    localparam integer CLKS_PER_BIT = @CLKS_PER_BIT@;
    localparam integer IDLE_CLKS = @IDLE_CLKS@;
    localparam integer BW = $clog2(IN_BYTES + OUT_BYTES + 2);
    localparam integer LW = $clog2(LATENCY + 3);
    localparam integer IW = $clog2(IDLE_CLKS + 2);

    wire rx_valid, rx_busy, tx_busy;
    wire [7:0] rx_data;
    hwgen_uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_rx (
        .clk(clk), .rx(rx), .valid(rx_valid), .data(rx_data), .busy(rx_busy)
    );

    // Receive: shift bytes in from the top, so after IN_BYTES bytes the first is at bits 7:0.
    reg [IN_BYTES*8-1:0] in_frame = {IN_BYTES*8{1'b0}};
    reg [BW-1:0] in_count = {BW{1'b0}};
    reg [IW-1:0] idle = {IW{1'b0}};
    reg frame_done = 1'b0;
    always @(posedge clk) begin
        frame_done <= 1'b0;
        if (rx_valid) begin
            in_frame <= {rx_data, in_frame[IN_BYTES*8-1:8]};
            idle <= {IW{1'b0}};
            if (in_count == IN_BYTES - 1) begin
                in_count <= {BW{1'b0}};
                frame_done <= 1'b1;
            end else begin
                in_count <= in_count + 1'b1;
            end
        end else if (rx_busy || in_count == 0) begin
            idle <= {IW{1'b0}};
        end else if (idle == IDLE_CLKS) begin
            in_count <= {BW{1'b0}};     // resynchronize: drop the partial frame
            idle <= {IW{1'b0}};
        end else begin
            idle <= idle + 1'b1;
        end
    end

    // Run the core: hold the vector, wait for the pipeline, capture the answer.
    reg [IN_W-1:0] core_in = {IN_W{1'b0}};
    wire [OUT_W-1:0] core_out;
    @CORE@ core (.clk(clk), .model_inp(core_in), .model_out(core_out));

    reg [LW-1:0] wait_count = {LW{1'b0}};
    reg waiting = 1'b0;
    reg [OUT_BYTES*8-1:0] out_frame = {OUT_BYTES*8{1'b0}};
    reg [BW-1:0] out_left = {BW{1'b0}};
    reg tx_start = 1'b0;
    always @(posedge clk) begin
        tx_start <= 1'b0;
        if (frame_done) begin
            core_in <= in_frame[IN_W-1:0];
            wait_count <= LATENCY + 1;
            waiting <= 1'b1;
        end else if (waiting) begin
            if (wait_count != 0) begin
                wait_count <= wait_count - 1'b1;
            end else begin
                waiting <= 1'b0;
                out_frame <= core_out;  // zero-extended to whole bytes
                out_left <= OUT_BYTES;
            end
        end else if (out_left != 0 && !tx_busy && !tx_start) begin
            tx_start <= 1'b1;
            out_left <= out_left - 1'b1;
        end
        if (tx_start)
            out_frame <= out_frame >> 8;
    end

    hwgen_uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_tx (
        .clk(clk), .start(tx_start), .data(out_frame[7:0]), .tx(tx), .busy(tx_busy)
    );
endmodule
