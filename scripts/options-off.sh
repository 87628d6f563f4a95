#!/usr/bin/env bash
# The series builds with its options off: every C file the series touches
# (and the x86 kernel_info, which lists the hand-over formats) compiled in a
# config without KASAN or lockdep where
#   all-off       CONFIG_LIVEUPDATE=n, so every Live Update option is off
#                 (what a distribution ships by default)
#   pci-only      PCI Live Update on, vfio-pci and VT-d Live Update off
#   no-vtd        PCI and vfio-pci Live Update on, VT-d Live Update off
# Prints KTAP, one result per variant; a compile error or a new warning
# (-Werror is not used: the base's own warnings are not ours) fails it.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}
tree=$work/linux
out=$work/build-options
jobs=${JOBS:-$(nproc)}
frags=("$tree/tools/testing/selftests/pci_liveupdate/config" "$top/config/base.config")

variant_config() { # variant_config NAME: options appended after the fragments
	case $1 in
	all-off) printf '# CONFIG_LIVEUPDATE is not set\n# CONFIG_PCI_LIVEUPDATE is not set\n' ;;
	pci-only) printf '# CONFIG_VFIO_PCI_LIVEUPDATE is not set\n# CONFIG_INTEL_IOMMU_LIVEUPDATE is not set\n' ;;
	no-vtd) printf '# CONFIG_INTEL_IOMMU_LIVEUPDATE is not set\n' ;;
	esac
}
# variant_ok NAME: the options the variant turns off are off, the others on
variant_ok() {
	local c=$out/.config
	case $1 in
	all-off) ! grep -qE '^CONFIG_(LIVEUPDATE|PCI_LIVEUPDATE|VFIO_PCI_LIVEUPDATE|INTEL_IOMMU_LIVEUPDATE)=y' "$c" ;;
	pci-only) grep -q '^CONFIG_PCI_LIVEUPDATE=y' "$c" &&
		  ! grep -qE '^CONFIG_(VFIO_PCI|INTEL_IOMMU)_LIVEUPDATE=y' "$c" ;;
	no-vtd) grep -q '^CONFIG_VFIO_PCI_LIVEUPDATE=y' "$c" &&
		! grep -q '^CONFIG_INTEL_IOMMU_LIVEUPDATE=y' "$c" ;;
	esac
}

# The objects: C files the series adds or changes, less those another file
# #includes (KUnit tests of static functions) and files of other arches.
mapfile -t objs < <(git -C "$tree" diff --name-only --diff-filter=AM base HEAD -- '*.c' |
	grep -v '^tools/\|^Documentation/\|^samples/\|^scripts/\|^arch/[^x]' |
	while read -r f; do
		git -C "$tree" grep -q "^#include \"${f##*/}\"" HEAD -- "${f%/*}/*.c" ||
			echo "${f%.c}.o"
	done)
objs+=(arch/x86/boot/compressed/kernel_info.o)

# built OBJ: the config builds OBJ, going by the lines of the Makefiles
# that name it (continuation lines joined): every CONFIG_ option on the line
# naming the file is on, and the same holds for the composite object it is
# part of ("name-y += file.o", "name-$(CONFIG_X) += file.o") and for its
# directory in the parent's Makefile.  A file whose option is off is not
# compiled at all, so only its callers' stubs have to hold.
mk_line() { # mk_line DIR NAME: the Makefile line of DIR that names NAME
	[ -f "$tree/$1/Makefile" ] || return 0
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$tree/$1/Makefile" |
		grep -E "(^|[[:space:]=])$2([[:space:]]|$)" | grep -vE '^\s*#' | head -n1
}
built() {
	local o=$1 dir name line opt lhs
	dir=$(dirname "$o") name=$(basename "$o")
	line=$(mk_line "$dir" "$name")
	for opt in $(grep -oE 'CONFIG_[A-Z0-9_]+' <<<"$line"); do
		grep -q "^$opt=y" "$out/.config" || return 1
	done
	lhs=$(sed -E 's/^\s*([A-Za-z0-9_]+)-.*/\1/' <<<"$line")
	if [ -n "$line" ] && [ "$lhs" != obj ] && [ "$lhs" != "$line" ]; then
		built "$dir/$lhs.o" || return 1
	fi
	# The directory itself, as its parent names it
	[ "$dir" != . ] && [[ $dir == */* ]] || return 0
	line=$(mk_line "$(dirname "$dir")" "$(basename "$dir")/")
	for opt in $(grep -oE 'CONFIG_[A-Z0-9_]+' <<<"$line"); do
		grep -q "^$opt=y" "$out/.config" || return 1
	done
	built_dir "$(dirname "$dir")"
}
built_dir() { # the directory's own ancestors
	local dir=$1 line opt
	[[ $dir == */* ]] || return 0
	line=$(mk_line "$(dirname "$dir")" "$(basename "$dir")/")
	for opt in $(grep -oE 'CONFIG_[A-Z0-9_]+' <<<"$line"); do
		grep -q "^$opt=y" "$out/.config" || return 1
	done
	built_dir "$(dirname "$dir")"
}

variants=(all-off pci-only no-vtd)
echo "KTAP version 1"
echo "1..${#variants[@]}"
n=0 fail=0
mkdir -p "$out"
for v in "${variants[@]}"; do
	n=$((n + 1))
	log=$out/$v.log
	start=$(date +%s)
	{ cat "${frags[@]}"; variant_config "$v"; } >"$out/.config"
	if ! make -s -C "$tree" O="$out" olddefconfig >"$log" 2>&1 || ! variant_ok "$v"; then
		echo "not ok $n builds with $v # config not as asked, see $log"
		fail=1
		continue
	fi
	mapfile -t built < <(for o in "${objs[@]}"; do built "$o" && echo "$o"; done)
	if make -s -C "$tree" O="$out" -j"$jobs" W=1 prepare >>"$log" 2>&1 &&
	   make -C "$tree" O="$out" -j"$jobs" W=1 -k "${built[@]}" >>"$log" 2>&1; then
		warn=$(grep -cE '\.[chS]:[0-9]+(:[0-9]+)?: (warning|error):' "$log")
		if [ "$warn" = 0 ]; then
			echo "ok $n builds with $v (${#built[@]} of ${#objs[@]} objects, $(( $(date +%s) - start )) s)"
			continue
		fi
	fi
	grep -E '\.[chS]:[0-9]+(:[0-9]+)?: (warning|error):' "$log" | head -n 20 | sed 's/^/# /'
	echo "not ok $n builds with $v, see $log"
	fail=1
done
exit $fail
