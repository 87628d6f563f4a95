#!/usr/bin/env bash
# make check-each: every patch of the series builds on its own.  For each
# commit of the tree (from patch FROM=N on, up to TO=M, if given), in order: an
# incremental bzImage build, then the C files the patch touches compiled
# again with W=1 and sparse (C=1); any warning on them fails that patch.
# Prints KTAP, one result per patch.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}
tree=$work/linux
each=$work/each
out=$work/build-each
jobs=${JOBS:-$(nproc)}
# Every patch is built with the config of the whole series: the selftests'
# config of the last patch, then this project's fragments.
frags=$tree/tools/testing/selftests/pci_liveupdate/config

"$top/scripts/series.sh" tree >/dev/null || exit 1
[ -d "$each/.git" ] || [ -f "$each/.git" ] || git -C "$tree" worktree add -q --detach "$each" base
mkdir -p "$out"
mapfile -t commits < <(git -C "$tree" rev-list --reverse base..series)
echo "KTAP version 1"
echo "1..${#commits[@]}"
fail=0 n=0
# W=1 + sparse warnings of some objects, without line numbers, sorted.
# Debian 12's sparse 0.6.4 predates __typeof_unqual__, which 7.3 uses.
sparse=(CHECK="sparse -D__typeof_unqual__=__typeof__")
warnings() { # warnings OBJ...
	[ $# -gt 0 ] || return 0
	(cd "$each" && touch "${@/%.o/.c}" 2>/dev/null)
	make -C "$each" O="$out" -j"$jobs" W=1 C=1 "${sparse[@]}" "$@" 2>&1 |
		grep -E '(warning|error):' | sed -E 's/:[0-9]+(:[0-9]+)?:/:/' | sort -u
}
for c in "${commits[@]}"; do
	n=$((n + 1))
	subject=$(git -C "$tree" log -1 --format=%s "$c")
	# FROM=N: recheck patch N and later only, after changing them.
	if [ "$n" -gt "${TO:-$n}" ]; then
		echo "ok $n $subject # SKIP after TO=$TO"
		continue
	fi
	if [ "$n" -lt "${FROM:-1}" ]; then
		echo "ok $n $subject # SKIP before FROM=$FROM"
		continue
	fi
	log=$out/patch-$n.log
	# A .c file that another one #includes (KUnit tests of static
	# functions) is compiled as part of that file, not on its own.
	mapfile -t objs < <(git -C "$tree" diff --name-only --diff-filter=AM "$c^" "$c" -- '*.c' |
			    grep -v '^tools/\|^Documentation/\|^samples/\|^scripts/' |
			    while read -r f; do
				    git -C "$tree" grep -q "^#include \"${f##*/}\"" "$c" -- "${f%/*}/*.c" ||
					    echo "${f%.c}.o"
			    done)
	git -C "$each" checkout -q --detach "$c^"
	cat "$frags" "$top"/config/*.config >"$out/.config"
	make -s -C "$each" O="$out" olddefconfig >/dev/null 2>&1
	# What the touched files already warned about before this patch.
	mapfile -t old < <(for o in "${objs[@]}"; do
		[ -f "$each/${o%.o}.c" ] && echo "$o"; done)
	before=$(warnings "${old[@]}")
	git -C "$each" checkout -q --detach "$c"
	# The fragments again at every patch: an option whose Kconfig entry a
	# later patch adds must not be dropped by an earlier olddefconfig.
	cat "$frags" "$top"/config/*.config >"$out/.config"
	if ! make -s -C "$each" O="$out" -j"$jobs" olddefconfig bzImage >"$log" 2>&1; then
		tail -n 20 "$log" | sed 's/^/# /'
		echo "not ok $n $subject # build failed"; fail=1; continue
	fi
	after=$(warnings "${objs[@]}")
	new=$(comm -13 <(echo "$before") <(echo "$after") | grep . || true)
	if [ -n "$new" ]; then
		echo "$new" | head -n 20 | sed 's/^/# /'
		echo "not ok $n $subject # new W=1/sparse warnings"; fail=1; continue
	fi
	echo "ok $n $subject"
done
exit $fail
