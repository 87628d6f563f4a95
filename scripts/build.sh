#!/usr/bin/env bash
# Out-of-tree kernel build of $WORK/linux into $WORK/build from config/*.config
# (TREE and OUT name another tree and build directory: make negative's).
# Rebuilds stay incremental: .config is only regenerated when a fragment changes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}
tree=${TREE:-$work/linux}
out=${OUT:-$work/build}
jobs=${JOBS:-$(nproc)}
die() { echo "build: $*" >&2; exit 1; }

[ -f "$tree/Makefile" ] || die "no kernel tree at $tree (make tree)"
mkdir -p "$out"
kmake() { make -s -C "$tree" O="$out" -j"$jobs" "$@"; }

# The selftests' own config, then what this project adds (debug options).
frags=("$tree/tools/testing/selftests/pci_liveupdate/config" "$top"/config/*.config)
sum=$(cat "${frags[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$out/.config" ] || [ "$(cat "$out/.fragments.sum" 2>/dev/null)" != "$sum" ]; then
	cat "${frags[@]}" >"$out/.config"
	kmake olddefconfig
	# Every option a fragment asks for must have survived olddefconfig.
	missing=$(grep -h '^CONFIG_' "${frags[@]}" | while read -r opt; do
		grep -qx "$opt" "$out/.config" || echo "$opt"
	done)
	[ -z "$missing" ] || die "config options not satisfied (missing dependency?): $missing"
	echo "$sum" >"$out/.fragments.sum"
fi

start=$(date +%s)
kmake bzImage
kmake headers_install >/dev/null
echo "build: $out/arch/x86/boot/bzImage ($(( $(date +%s) - start )) s)"
