#!/usr/bin/env bash
# Small non-debug kernels to roll back to, for the rollback tests
# (vmtest.sh -K $WORK/rollback, plan keyword "kernel@N NAME"):
#   $WORK/rollback/upstream-7.3.4.bzImage  the base tree (tag "base" of $WORK/linux)
#   $WORK/rollback/r86.bzImage             base + the 86-patch series as released
#                                          (rollback/r86-series.tar.xz, made with
#                                          git archive f8fbaf0 series)
#   $WORK/rollback/r82.bzImage             the same cut before its patch 83 (the
#                                          release before vfio-pci's record had
#                                          MSI-X)
#   $WORK/rollback/r74.bzImage             the same cut before its patch 75 (the
#                                          release before VT-d translation was
#                                          handed over: PCI and vfio-pci Live
#                                          Update without the IOMMU part)
# Each is built once and cached: it is rebuilt only when the hash of its inputs
# (base commit, patches, config fragments, this script's recipe) changed.
# One worktree ($WORK/rollback/src) and one O= directory serve both images:
# base is built first, then the r86 patches are applied with git am and make
# recompiles only what they touch.  Config: the selftests' config of
# $WORK/linux plus config/base.config (no debug.config: no KASAN, lockdep),
# olddefconfig; options a tree does not know are dropped (upstream has no
# PCI or vfio Live Update).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}
tree=$work/linux
out=$work/rollback
src=$out/src
obj=$out/obj
jobs=${JOBS:-2}
r86_tar=$top/rollback/r86-series.tar.xz
# Bump when the way an image is built changes, so that cached images go.
recipe=1
die() { echo "rollback: $*" >&2; exit 1; }

[ -d "$tree/.git" ] || die "no kernel tree at $tree (make tree)"
[ -f "$r86_tar" ] || die "no $r86_tar"
g() { git -C "$src" -c user.name=rollback -c user.email=rollback@localhost "$@"; }
kmake() { nice make -s -C "$src" O="$obj" -j"$jobs" LOCALVERSION="-$name" "$@"; }

frags=("$tree/tools/testing/selftests/pci_liveupdate/config" "$top/config/base.config")
for f in "${frags[@]}"; do [ -f "$f" ] || die "no config fragment $f"; done
base=$(git -C "$tree" rev-parse 'base^{tree}')
common=$( { echo "recipe $recipe base $base"; cat "${frags[@]}"; } | sha256sum | cut -d' ' -f1)

mkdir -p "$out" "$obj"
# A worktree of a kernel tree that "make tree" made anew is dangling
if ! git -C "$src" rev-parse -q --verify base >/dev/null 2>&1; then
	rm -rf "$src"
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$src" base
fi

# The source at base, whatever a previous run left (git touches only the
# files that differ, so make stays incremental both ways).
checkout_base() {
	g am --abort >/dev/null 2>&1 || true
	g checkout -q -f --detach base
	g clean -q -fdx
}

apply_r86() {
	local tmp
	tmp=$(mktemp -d)
	tar -xJf "$r86_tar" -C "$tmp"
	# Every patch but the cover letter (0000, no diff: git am calls it empty)
	g am -q $(ls "$tmp"/series/[0-9]*.patch | grep -v '/0000-') ||
		{ rm -rf "$tmp"; die "r86 patches do not apply"; }
	rm -rf "$tmp"
}

# build NAME HASH: the checked-out source into $out/NAME.bzImage
build() {
	local name=$1 sum=$2 start missing
	start=$(date +%s)
	{ cat "${frags[@]}"; echo "# CONFIG_LOCALVERSION_AUTO is not set"; } >"$obj/.config"
	kmake olddefconfig
	missing=$(grep -h '^CONFIG_' "${frags[@]}" | while read -r opt; do
		grep -qx "$opt" "$obj/.config" || echo "${opt%%=*}"
	done | tr '\n' ' ')
	[ -z "$missing" ] || echo "rollback: $name lacks (not in its tree): $missing"
	kmake bzImage
	cp "$obj/arch/x86/boot/bzImage" "$out/$name.bzImage.tmp"
	mv "$out/$name.bzImage.tmp" "$out/$name.bzImage"
	echo "$sum" >"$out/$name.inputs"
	echo "rollback: $out/$name.bzImage ($(kmake -s kernelrelease)) in $(( $(date +%s) - start )) s"
}

cached() { [ -f "$out/$1.bzImage" ] && [ "$(cat "$out/$1.inputs" 2>/dev/null)" = "$2" ]; }

total=$(date +%s)
name=upstream-7.3.4
up_sum=$common
if cached "$name" "$up_sum"; then
	echo "rollback: $out/$name.bzImage is up to date"
else
	checkout_base
	build "$name" "$up_sum"
fi

name=r86
r86_sum=$( { echo "$common"; sha256sum <"$r86_tar"; } | sha256sum | cut -d' ' -f1)
if cached "$name" "$r86_sum"; then
	echo "rollback: $out/$name.bzImage is up to date"
else
	checkout_base
	apply_r86
	build "$name" "$r86_sum"
fi
name=r82
r82_sum=$( { echo "$r86_sum"; echo "cut before 83"; } | sha256sum | cut -d' ' -f1)
if cached "$name" "$r82_sum"; then
	echo "rollback: $out/$name.bzImage is up to date"
else
	if [ "$(g log -1 --format=%s 2>/dev/null)" != "$(g log -1 --format=%s base)" ] &&
	   g log --format=%s base..HEAD | grep -q '^vfio/pci: Keep MSI-X enabled across a Live Update$'; then
		: # r86 applied: cut from there, make recompiles what 83-86 touched
	else
		checkout_base
		apply_r86
	fi
	g checkout -q --detach HEAD~4
	[ "$(g log -1 --format=%s)" = "PCI/MSI: Keep MSI-X of a handed-over device enabled and masked" ] ||
		die "r86 cut before patch 83 is not at patch 82"
	build "$name" "$r82_sum"
fi
name=r74
r74_sum=$( { echo "$r82_sum"; echo "cut before 75"; } | sha256sum | cut -d' ' -f1)
if cached "$name" "$r74_sum"; then
	echo "rollback: $out/$name.bzImage is up to date"
else
	if [ "$(g log -1 --format=%s)" != "PCI/MSI: Keep MSI-X of a handed-over device enabled and masked" ]; then
		checkout_base
		apply_r86
		g checkout -q --detach HEAD~4
	fi
	g checkout -q --detach HEAD~8
	[ "$(g log -1 --format=%s)" = "selftests/pci_liveupdate: Parse the plan format in one place" ] ||
		die "r86 cut before patch 75 is not at patch 74"
	build "$name" "$r74_sum"
fi
echo "rollback: done in $(( $(date +%s) - total )) s"
