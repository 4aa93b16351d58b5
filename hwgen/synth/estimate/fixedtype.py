"""Arbitrary-precision types as hls4ml writes them (ap_fixed / ap_ufixed / ap_int / ap_uint,
nnet::array<...> packs for io_stream, and the `fixed<...>` spelling of hls4ml configs), and the
quantization of weight values onto such a type exactly as the C++ cast does it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_AP = re.compile(r"^(ap_fixed|ap_ufixed|ap_int|ap_uint|fixed|ufixed|int|uint)\s*<(.*)>$")
_ARRAY = re.compile(r"^nnet::array\s*<(.*),\s*([^,<>]+)>$")


@dataclass(frozen=True)
class FixedType:
    """A fixed-point type: `width` bits in all, `integer` of them above the binary point
    (sign included for signed types, as in ap_fixed<W,I>)."""

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"  # TRN, RND, RND_CONV, RND_ZERO, RND_INF, RND_MIN_INF
    overflow: str = "WRAP"  # WRAP, SAT, SAT_ZERO, SAT_SYM
    pack: int = 1  # elements per stream word (nnet::array<T, N>), 1 otherwise

    @property
    def frac(self) -> int:
        return self.width - self.integer

    def quantize(self, values: np.ndarray) -> np.ndarray:
        """Integer codes (value * 2**frac) after the C++ cast from double: rounding, then overflow."""
        x = np.asarray(values, dtype=np.float64) * (2.0 ** self.frac)
        mode = self.rounding
        if mode == "TRN":
            q = np.floor(x)
        elif mode == "RND":
            q = np.floor(x + 0.5)
        elif mode == "RND_CONV":
            q = np.round(x)  # half to even
        elif mode == "RND_ZERO":
            q = np.where(x >= 0, np.ceil(x - 0.5), np.floor(x + 0.5))
        elif mode == "RND_INF":
            q = np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))
        elif mode == "RND_MIN_INF":
            q = np.ceil(x - 0.5)
        else:  # TRN_ZERO and anything unknown: toward zero
            q = np.trunc(x)
        lo = -(2 ** (self.width - 1)) if self.signed else 0
        hi = (2 ** (self.width - 1) - 1) if self.signed else (2**self.width - 1)
        if self.overflow.startswith("SAT"):
            q = np.clip(q, lo, hi)
        else:  # wrap around
            span = 2**self.width
            q = np.mod(q - lo, span) + lo
        return q.astype(np.int64)


def _split_args(text: str) -> list[str]:
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur).strip())
    return out


def _eval_int(text: str) -> int:
    """Integer template argument such as '16', '4*1' or '(16)'."""
    text = text.strip()
    if not re.fullmatch(r"[0-9+*() -]+", text):
        raise ValueError(f"not an integer expression: {text!r}")
    value = 1
    for part in text.replace("(", "").replace(")", "").split("*"):
        value *= int(part.strip())
    return value


def parse_type(text: str) -> FixedType | None:
    """FixedType of a C++/hls4ml type spelling; None for types that are not fixed point (float,
    bool, user structs). Accepts 'ap_fixed<16,6,AP_RND,AP_SAT>', 'fixed<6,1,TRN,WRAP,0>',
    'ap_uint<1>', 'nnet::array<ap_fixed<16,6>, 4*1>'."""
    text = text.strip()
    m = _ARRAY.match(text)
    if m:
        inner = parse_type(m.group(1))
        if inner is None:
            return None
        try:
            pack = _eval_int(m.group(2))
        except ValueError:
            pack = 1
        return FixedType(inner.width, inner.integer, inner.signed, inner.rounding, inner.overflow, pack)
    m = _AP.match(text)
    if not m:
        return None
    kind, args = m.group(1), _split_args(m.group(2))
    try:
        width = _eval_int(args[0])
    except (ValueError, IndexError):
        return None
    if kind in ("ap_int", "int"):
        return FixedType(width, width, True)
    if kind in ("ap_uint", "uint"):
        return FixedType(width, width, False)
    try:
        integer = _eval_int(args[1]) if len(args) > 1 else width
    except ValueError:
        return None
    signed = kind in ("ap_fixed", "fixed")
    rounding = args[2].replace("AP_", "") if len(args) > 2 and args[2] else "TRN"
    overflow = args[3].replace("AP_", "") if len(args) > 3 and args[3] else "WRAP"
    return FixedType(width, integer, signed, rounding, overflow)


def signed_width(code: int) -> int:
    """Bits of the two's-complement constant `code` as HLS sizes a constant operand."""
    code = int(code)
    return code.bit_length() + 1 if code >= 0 else (-code - 1).bit_length() + 1


def csd_digits(code: int) -> int:
    """Non-zero digits of |code| in canonical signed-digit form (1 for powers of two, 0 for 0):
    the number of shifted terms a constant multiplication needs when done with adders."""
    x, digits = abs(int(code)), 0
    while x:
        if x & 1:
            x = x + 1 if (x & 3) == 3 else x - 1
            digits += 1
        x >>= 1
    return digits
