#!/usr/bin/env bash
# make negative: show that the checks fail for their reason when a fix is
# taken out.  One kernel with every patch of negative/ applied to the series
# (each takes one fix out, in code no other control's plan relies on) is
# built in $WORK/build-neg from a worktree, $WORK/neg; then every plan that
# negative/controls names runs against it, and each control passes only if
# its test failed and the plan's output says why.  Not part of make check
# (a second kernel build, about 10 minutes cold): run it after changing a
# fix or its test.  Prints KTAP, one result per control.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}
tree=$work/linux
neg=$work/neg
out=$work/build-neg
runs=$work/vmtest-neg
st=$neg/tools/testing/selftests/pci_liveupdate
die() { echo "Bail out! negative: $*"; exit 1; }

"$top/scripts/series.sh" tree >/dev/null || die "the series does not apply"
[ -e "$neg/.git" ] || git -C "$tree" worktree add -q --detach "$neg" series ||
	die "no worktree at $neg"
git -C "$neg" checkout -q --detach series && git -C "$neg" reset -q --hard ||
	die "cannot reset $neg to the series"
for p in "$top"/negative/*.patch; do
	git -C "$neg" apply "$p" || die "$(basename "$p") does not apply"
done
TREE=$neg OUT=$out "$top/scripts/build.sh" >&2 || die "the kernel without the fixes does not build"

mapfile -t controls < <(grep -v '^#' "$top/negative/controls" | grep .)
paths=()
for p in $(printf '%s\n' "${controls[@]}" | cut -f2 | sort -u); do
	paths+=("$st/$p.plan")
done
rm -rf "$runs"
"$st/vmtest.sh" -b "$out" -o "$runs" -j "${VM_JOBS:-$(nproc)}" "${paths[@]}" \
	>"$work/negative.ktap" 2>&1
echo "KTAP version 1"
echo "1..${#controls[@]}"
n=0 fail=0
for c in "${controls[@]}"; do
	IFS=$'\t' read -r patch plan test reason <<<"$c"
	n=$((n + 1))
	# A host check's or a shell step's reason is its own condition: "-"
	if grep -q "^not ok [0-9]* $plan: $test" "$work/negative.ktap" &&
	   { [ "$reason" = - ] && grep -qE "^(host $test |[0-9]+ $test sh )" "$st/$plan.plan" ||
	     grep -qF -- "$reason" "$runs/$plan/results.ktap"; }; then
		echo "ok $n $patch: $plan $test fails: $reason"
	else
		grep "$plan: " "$work/negative.ktap" | sed 's/^/# /'
		echo "not ok $n $patch: $plan $test did not fail with: $reason"
		fail=1
	fi
done
git -C "$neg" reset -q --hard
exit $fail
