#!/usr/bin/env bash
# make check: apply the series, checkpatch, build, then KUnit and the
# kselftests in QEMU.  Ends with "N passed, N failed, N skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}
export WORK=$work
log=$work/check
mkdir -p "$log"
pass=0 fail=0 skip=0 t0=$(date +%s)

step() { printf '\n=== %s (%ss)\n' "$1" $(( $(date +%s) - t0 )); }
result() { # result ok|fail|skip "what"
	case $1 in
	ok) pass=$((pass + 1)); echo "ok - $2" ;;
	skip) skip=$((skip + 1)); echo "ok - $2 # SKIP" ;;
	*) fail=$((fail + 1)); echo "not ok - $2" ;;
	esac
}
# Count the KTAP results a tool printed (top level only).
count_ktap() {
	local f=$1
	pass=$((pass + $(grep -cE '^ok [0-9]+ ' "$f" | tr -d ' ') - $(grep -cE '^ok [0-9]+ .*# SKIP' "$f")))
	skip=$((skip + $(grep -cE '^ok [0-9]+ .*# SKIP' "$f")))
	fail=$((fail + $(grep -cE '^not ok [0-9]+ ' "$f")))
}
finish() {
	step "done"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
	exit $?
}

step "apply series/ to Linux 7.3.4"
if "$top/scripts/series.sh" tree; then
	result ok "series applies"
else
	result fail "series applies"
	finish
fi

step "checkpatch --strict"
"$top/scripts/checkpatch.sh" | tee "$log/checkpatch.ktap"
count_ktap "$log/checkpatch.ktap"

step "build"
if "$top/scripts/build.sh"; then
	result ok "kernel builds"
else
	result fail "kernel builds"
	finish
fi

step "harness self-test: a deep checkout under another git identity"
"$top/scripts/selftest-harness.sh" | tee "$log/harness.ktap"
count_ktap "$log/harness.ktap"

plans=()
for p in "$work"/linux/tools/testing/selftests/pci_liveupdate/*.plan; do
	case $p in *negative_control.plan) continue ;; esac
	plans+=("$p")
done
step "KUnit + kselftests in QEMU: ${#plans[@]} VM runs"
"$work"/linux/tools/testing/selftests/pci_liveupdate/vmtest.sh -b "$work/build" \
	-o "$work/vmtest" "${plans[@]}" | tee "$log/vmtest.ktap"
vm_rc=${PIPESTATUS[0]}
count_ktap "$log/vmtest.ktap"
# No result may vanish: the runner's own verdict and its plan count both matter.
planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log/vmtest.ktap" | head -n1)
reported=$(grep -cE '^(not )?ok [0-9]+ ' "$log/vmtest.ktap")
if [ "${planned:-none}" != "$reported" ]; then
	result fail "vmtest.sh reported $reported results of ${planned:-no} planned"
fi
if [ "$vm_rc" != 0 ] && ! grep -qE '^not ok [0-9]+ ' "$log/vmtest.ktap"; then
	result fail "vmtest.sh exited $vm_rc without reporting a failure"
fi

step "negative control: the harness must fail a run with a failing test and a WARNING"
neg=$work/linux/tools/testing/selftests/pci_liveupdate/negative_control.plan
"$work"/linux/tools/testing/selftests/pci_liveupdate/vmtest.sh -b "$work/build" \
	-o "$work/vmtest-negative" "$neg" >"$log/negative.ktap" 2>&1
neg_rc=$?
if [ "$neg_rc" != 0 ] && grep -q '^not ok .*must_fail' "$log/negative.ktap" &&
   grep -q '^not ok .*guest log free of splats' "$log/negative.ktap" &&
   grep -q '^ok .*must_pass' "$log/negative.ktap"; then
	result ok "harness reports a failing test and a guest WARNING as failures"
else
	sed 's/^/# /' "$log/negative.ktap"
	result fail "harness reports a failing test and a guest WARNING as failures"
fi

finish
