#!/usr/bin/env bash
# checkpatch.pl --strict on every patch of series/; prints KTAP, one line per patch.
# The only accepted warning is "does MAINTAINERS need updating" (see the cover letter).
set -uo pipefail
# spdxcheck.py needs ply: prefer the distribution python3 (python3-ply).
export PATH=/usr/bin:$PATH
top=$(cd "$(dirname "$0")/.." && pwd)
tree=${WORK:-$top/work}/linux
fail=0
tmp=$(mktemp -d)
# checkpatch --strict leaves a CamelCase cache in the tree: not our work.
trap 'rm -rf "$tmp" "$tree"/.checkpatch-camelcase.git.*' EXIT
patches=("$top"/series/[0-9][0-9][0-9][0-9]-*.patch)
patches=("${patches[@]:1}")	# not the cover letter
# One checkpatch per CPU (each is a single-threaded perl); reported in order.
n=0
for p in "${patches[@]}"; do
	n=$((n + 1))
	[ "$(jobs -rp | wc -l)" -lt "$(nproc)" ] || wait -n
	(cd "$tree" && scripts/checkpatch.pl --strict --no-summary --terse \
		--ignore FILE_PATH_CHANGES "$p" >"$tmp/$n" 2>&1) &
	# The first run writes the CamelCase cache the others read.
	[ "$n" != 1 ] || wait
done
wait
echo "KTAP version 1"
echo "1..${#patches[@]}"
n=0
for p in "${patches[@]}"; do
	n=$((n + 1))
	if [ -s "$tmp/$n" ]; then
		sed 's/^/# /' "$tmp/$n"
		echo "not ok $n checkpatch $(basename "$p")"
		fail=1
	else
		echo "ok $n checkpatch $(basename "$p")"
	fi
done
exit $fail
