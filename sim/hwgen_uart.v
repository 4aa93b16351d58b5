// hwgen UART primitives (8 data bits, no parity, 1 stop bit, LSB first), used by the board
// wrapper written from sim/uart_top.v. CLKS_PER_BIT = round(clock Hz / baud).
// Registers power up as 0 (iCE40 and ECP5 configure every flip-flop to 0): idle-high lines are
// therefore kept inverted (rxn, txn), so the line is idle from the first clock on.
`timescale 1ns / 1ps

module hwgen_uart_rx #(
    parameter integer CLKS_PER_BIT = 104
) (
    input clk,
    input rx,
    output reg valid = 1'b0,        // one clock: `data` holds a received byte
    output reg [7:0] data = 8'd0,
    output busy                     // a byte is being received
);
    localparam integer CW = $clog2(CLKS_PER_BIT + 1);
    reg rxn_meta = 1'b0, rxn = 1'b0;  // two-flop synchronizer of the inverted line
    reg active = 1'b0;
    reg [CW-1:0] count = {CW{1'b0}};
    reg [3:0] bit_no = 4'd0;            // 0: start bit, 1..8: data, 9: stop bit
    assign busy = active;

    always @(posedge clk) begin
        rxn_meta <= ~rx;
        rxn <= rxn_meta;
        valid <= 1'b0;
        if (!active) begin
            if (rxn) begin              // falling edge of the start bit: sample in mid-bit
                active <= 1'b1;
                count <= CLKS_PER_BIT / 2;
                bit_no <= 4'd0;
            end
        end else if (count != 0) begin
            count <= count - 1'b1;
        end else begin
            count <= CLKS_PER_BIT - 1;
            if (bit_no == 4'd0) begin
                if (rxn)
                    bit_no <= 4'd1;
                else
                    active <= 1'b0;     // glitch, not a start bit
            end else if (bit_no <= 4'd8) begin
                data <= {~rxn, data[7:1]};
                bit_no <= bit_no + 1'b1;
            end else begin
                active <= 1'b0;
                valid <= ~rxn;          // a missing stop bit (framing error) drops the byte
            end
        end
    end
endmodule

module hwgen_uart_tx #(
    parameter integer CLKS_PER_BIT = 104
) (
    input clk,
    input start,                    // one clock: send `data` (ignored while busy)
    input [7:0] data,
    output tx,
    output busy
);
    localparam integer CW = $clog2(CLKS_PER_BIT + 1);
    reg txn = 1'b0;                 // inverted line: 0 = idle high
    reg [9:0] frame = 10'd0;        // stop, data[7:0], start; shifted out LSB first
    reg [3:0] left = 4'd0;          // bits still to put on the line
    reg [CW-1:0] count = {CW{1'b0}};
    assign tx = ~txn;
    assign busy = (left != 0) || (count != 0);

    always @(posedge clk) begin
        if (!busy) begin
            if (start) begin
                frame <= {1'b1, data, 1'b0};
                left <= 4'd10;
            end
        end else if (count != 0) begin
            count <= count - 1'b1;
        end else begin              // next bit; the stop bit is held for a full bit time too
            txn <= ~frame[0];
            frame <= {1'b1, frame[9:1]};
            left <= left - 1'b1;
            count <= CLKS_PER_BIT - 1;
        end
    end
endmodule
