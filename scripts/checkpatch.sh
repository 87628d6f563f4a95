#!/usr/bin/env bash
# checkpatch.pl --strict on every patch of series/; prints KTAP, one line per patch.
# The only accepted warning is "does MAINTAINERS need updating" (see the cover letter).
set -uo pipefail
# spdxcheck.py needs ply: prefer the distribution python3 (python3-ply).
export PATH=/usr/bin:$PATH
top=$(cd "$(dirname "$0")/.." && pwd)
tree=${WORK:-$top/work}/linux
n=0 fail=0
# checkpatch --strict leaves a CamelCase cache in the tree: not our work.
trap 'rm -f "$tree"/.checkpatch-camelcase.git.*' EXIT
patches=("$top"/series/[0-9][0-9][0-9][0-9]-*.patch)
echo "KTAP version 1"
echo "1..$(( ${#patches[@]} - 1 ))"
for p in "${patches[@]}"; do
	case $p in */0000-cover-letter.patch) continue ;; esac
	n=$((n + 1))
	out=$(cd "$tree" && scripts/checkpatch.pl --strict --no-summary --terse \
		--ignore FILE_PATH_CHANGES "$p" 2>&1)
	if [ -n "$out" ]; then
		echo "$out" | sed 's/^/# /'
		echo "not ok $n checkpatch $(basename "$p")"
		fail=1
	else
		echo "ok $n checkpatch $(basename "$p")"
	fi
done
exit $fail
