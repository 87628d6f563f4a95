#!/usr/bin/env bash
# make check: apply the series, checkpatch, build, the harness self-test,
# then KUnit and the kselftests in QEMU, and the negative controls.
# Ends with "N passed, N failed, N skipped", counting tests (checkpatch is
# one of them, whatever the number of patches).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}
export WORK=$work
log=$work/check
st=$work/linux/tools/testing/selftests/pci_liveupdate
accepted=$top/scripts/accepted-skips
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
# VMs side by side: one per CPU (a guest has one vCPU unless its plan asks
# for two), at most one per 3 GiB of available memory (each has 2 GiB);
# VM_JOBS overrides.  Measured on 2 CPUs, four plans (29 tests): 262 s with
# two vCPUs one VM at a time, 234 s with one vCPU, 202 s with one vCPU and
# two VMs at a time.
vm_jobs() {
	local jobs mem
	jobs=${VM_JOBS:-$(nproc)}
	mem=$(( $(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) / (3 * 1024 * 1024) ))
	[ -n "${VM_JOBS:-}" ] || [ "$jobs" -le "$mem" ] || jobs=$mem
	[ "$jobs" -ge 1 ] || jobs=1
	echo "$jobs"
}
vmtest() { # vmtest OUTDIR PLAN...
	local out=$1
	shift
	"$st/vmtest.sh" -b "$work/build" -K "$work/rollback" -o "$out" -j "$(vm_jobs)" "$@"
}

# No result may vanish: the runner's verdict and its plan count both count.
check_counts() { # check_counts KTAP EXIT_STATUS
	local planned reported bad=0
	planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$1" | head -n1)
	reported=$(grep -cE '^(not )?ok [0-9]+ ' "$1")
	if [ "${planned:-none}" != "$reported" ]; then
		echo "# $reported results of ${planned:-no} planned"
		bad=1
	fi
	if [ "$2" != 0 ] && ! grep -qE '^not ok [0-9]+ ' "$1"; then
		echo "# exit status $2 without a failure reported"
		bad=1
	fi
	return $bad
}

# Every skip, top level (KTAP) or nested in a test program's output
# (RESULTS...), must be one that scripts/accepted-skips lists.
check_skips() { # check_skips KTAP RESULTS...
	local ktap=$1 line re reason why bad=0
	shift
	while IFS= read -r line; do
		why=
		while IFS=$'\t' read -r re reason; do
			case $re in "" | "#"*) continue ;; esac
			if [[ $line =~ $re ]]; then
				why=$reason
				break
			fi
		done <"$accepted"
		if [ -n "$why" ]; then
			echo "# accepted skip: ${line#"${line%%[! ]*}"} ($why)"
		else
			echo "# unexpected skip: $line"
			bad=1
		fi
	done < <(grep -hE '^ok [0-9]+ .*# SKIP' "$ktap"
		 [ $# -gt 0 ] && grep -hE '^ +ok [0-9]+ .*# SKIP' "$@")
	return $bad
}

step "apply series/ to Linux 7.3.4"
if "$top/scripts/series.sh" tree; then
	result ok "series applies"
else
	result fail "series applies"
	finish
fi

step "checkpatch --strict"
"$top/scripts/checkpatch.sh" >"$log/checkpatch.ktap"
cp_rc=$?
grep -v '^ok ' "$log/checkpatch.ktap"
cp_total=$(grep -cE '^(not )?ok [0-9]+ ' "$log/checkpatch.ktap")
cp_clean=$(grep -cE '^ok [0-9]+ ' "$log/checkpatch.ktap")
if [ "$cp_rc" = 0 ] && [ "$cp_total" -gt 0 ] && [ "$cp_clean" = "$cp_total" ]; then
	result ok "checkpatch --strict: $cp_clean of $cp_total patches clean"
else
	result fail "checkpatch --strict: $cp_clean of $cp_total patches clean"
fi

step "build"
if "$top/scripts/build.sh"; then
	result ok "kernel builds"
else
	result fail "kernel builds"
	finish
fi

step "make negative's patches still apply (each takes one fix out)"
bad_neg=""
for p in "$top"/negative/*.patch; do
	git -C "$work/linux" apply --check "$p" 2>/dev/null || bad_neg+=" $(basename "$p")"
done
if [ -z "$bad_neg" ]; then
	result ok "make negative's $(ls "$top"/negative/*.patch | wc -l) patches apply to the series"
else
	echo "# do not apply:$bad_neg"
	result fail "make negative's patches apply to the series"
fi

step "the series builds with its options off"
"$top/scripts/options-off.sh" | tee "$log/options-off.ktap"
oo_rc=${PIPESTATUS[0]}
count_ktap "$log/options-off.ktap"
check_counts "$log/options-off.ktap" "$oo_rc" || result fail "options-off builds reported every result"

step "kernels to roll back to (upstream 7.3.4, earlier releases of the series)"
if "$top/scripts/rollback.sh"; then
	result ok "rollback kernels built"
else
	result fail "rollback kernels built"
fi

step "harness self-test: a deep checkout under another git identity"
"$top/scripts/selftest-harness.sh" | tee "$log/harness.ktap"
h_rc=${PIPESTATUS[0]}
count_ktap "$log/harness.ktap"
check_counts "$log/harness.ktap" "$h_rc" || result fail "harness self-test reported every result"

# The plans to run are the manifest's, and every plan file is in it.
manifest=$top/scripts/check-manifest
plans=()
unlisted=()
while read -r name _; do
	plans+=("$st/$name.plan")
done < <(sed -e '/^#/d' -e '/^$/d' "$manifest")
for p in "$st"/*.plan; do
	case $p in */negative_control*.plan) continue ;; esac
	grep -q "^$(basename "$p" .plan) " "$manifest" || unlisted+=("$(basename "$p")")
done
missing=()
for p in "${plans[@]}"; do
	[ -f "$p" ] || missing+=("$(basename "$p")")
done
if [ ${#unlisted[@]} = 0 ] && [ ${#missing[@]} = 0 ]; then
	result ok "the plans are the manifest's (${#plans[@]}, scripts/check-manifest)"
else
	echo "# not in the manifest: ${unlisted[*]:-none}; listed but missing: ${missing[*]:-none}"
	result fail "the plans are the manifest's (${#plans[@]}, scripts/check-manifest)"
fi
step "KUnit + kselftests in QEMU: ${#plans[@]} VM runs, $(vm_jobs) at a time"
rm -rf "$work/vmtest"
vmtest "$work/vmtest" "${plans[@]}" | tee "$log/vmtest.ktap"
vm_rc=${PIPESTATUS[0]}
count_ktap "$log/vmtest.ktap"
if check_counts "$log/vmtest.ktap" "$vm_rc"; then
	result ok "vmtest.sh reported every planned result"
else
	result fail "vmtest.sh reported every planned result"
fi
# Each plan reported as many results as the manifest says
short=0
while read -r name want; do
	got=$(grep -cE "^(not )?ok [0-9]+ $name: " "$log/vmtest.ktap")
	if [ "$got" != "$want" ]; then
		echo "# $name: $got results, the manifest says $want"
		short=1
	fi
done < <(sed -e '/^#/d' -e '/^$/d' "$manifest")
if [ "$short" = 0 ]; then
	result ok "every plan reported the manifest's number of results ($(sed -e '/^#/d' "$manifest" | awk '{s += $2} END {print s}'))"
else
	result fail "every plan reported the manifest's number of results"
fi
if check_skips "$log/vmtest.ktap" "$work"/vmtest/*/results.ktap; then
	result ok "every skip is on the accepted list (scripts/accepted-skips)"
else
	result fail "every skip is on the accepted list (scripts/accepted-skips)"
fi

step "negative controls: what the harness must catch"
neg=$work/vmtest-negative
rm -rf "$neg"
# One runner for the six plans (VMs side by side); each check below looks
# at its own plan's lines.  The two that wait for a timeout go first.
vmtest "$neg" "$st/negative_control_hang.plan" "$st/negative_control_early_hang.plan" \
	"$st/negative_control.plan" "$st/negative_control_bug.plan" \
	"$st/negative_control_iommu.plan" "$st/negative_control_iommu_gap.plan" \
	"$st/negative_control_rollback.plan" "$st/negative_control_rollback_noiommu.plan" \
	>"$log/negative.ktap" 2>&1
neg_rc=$?
if [ "$neg_rc" != 0 ] && grep -q '^not ok .*negative_control: must_fail' "$log/negative.ktap" &&
   grep -q '^not ok .*negative_control: guest log free of splats' "$log/negative.ktap" &&
   grep -q '^ok .*negative_control: must_pass' "$log/negative.ktap"; then
	result ok "harness reports a failing test and a guest WARNING as failures"
else
	sed 's/^/# /' "$log/negative.ktap"
	result fail "harness reports a failing test and a guest WARNING as failures"
fi
if grep -q '^not ok .*negative_control: no_leaks_must_fail' "$log/negative.ktap"; then
	result ok "the kmemleak check fails in a kernel without kmemleak"
else
	result fail "the kmemleak check fails in a kernel without kmemleak"
fi
# neg_plan_fails PLAN HOST_CHECK REASON WHAT: stage 1 passed, the VMM's
# update failed saying REASON (an extended regular expression, in the
# plan's output), and the host check failed
neg_plan_fails() {
	if grep -q "^ok .*$1: vmm_start" "$log/negative.ktap" &&
	   grep -q "^not ok .*$1: vmm_must_fail" "$log/negative.ktap" &&
	   grep -qE "$3" "$neg/$1/results.ktap" &&
	   grep -q "^not ok .*$1: $2" "$log/negative.ktap"; then
		result ok "$4"
	else
		sed 's/^/# /' "$log/negative.ktap"
		result fail "$4"
	fi
}
neg_plan_fails negative_control_iommu translation_must_stay_on \
	'want INCOMING, not RESET or BUS_MASTER_CLEARED' \
	"the IOMMU hand-over plan fails with the hand-over off (intel_iommu=lu_off): Bus Master cleared"
neg_plan_fails negative_control_iommu_gap no_dma_fault_must_fail \
	'BENCH iommu_lost_at_attach [1-9]' \
	"DMA across the attach is lost when the new domain is filled after it (-a)"
# The released series (r86, stage 1) hands the device over on the next
# kernel's command line alone: rolled back to upstream 7.3.4, the rollback
# checks must fail, each for its own reason.
neg_rollback() { # neg_rollback PLAN WHAT: stage 1 passed, every check failed for its reason
	local d=$neg/$1
	if grep -q "^ok .*$1: stream_preserved" "$log/negative.ktap" &&
	   grep -q "^not ok .*$1: bus_master_off_must_fail" "$log/negative.ktap" &&
	   grep -qx '    command 07' "$d/results.ktap" &&
	   if [ "$1" = negative_control_rollback ]; then
		grep -q "^not ok .*$1: canary_intact_must_fail" "$log/negative.ktap" &&
		grep -q 'canary words changed' "$d/results.ktap" &&
		grep -q "^not ok .*$1: no_untranslated_dma_must_fail" "$log/negative.ktap" &&
		grep -q 'untranslated with Bus Master on and a stream running' "$d"/host-*.log
	   else
		grep -q "^not ok .*$1: position_stopped_must_fail" "$log/negative.ktap" &&
		grep -q 'still writes its position into the canary' "$d/results.ktap"
	   fi; then
		result ok "$2"
	else
		sed 's/^/# /' "$d/results.ktap" 2>/dev/null
		result fail "$2"
	fi
}
neg_rollback negative_control_rollback \
	"a rollback from the released series (r86) to upstream fails the rollback checks (IOMMU)"
neg_rollback negative_control_rollback_noiommu \
	"a rollback from the released series (r86) to upstream fails the rollback checks (noiommu)"
if grep -q '^ok .*planted_skip.*# SKIP' "$log/negative.ktap" &&
   ! check_skips "$log/negative.ktap" "$neg"/*/results.ktap >"$log/negative-skips.log" &&
   grep -q '^# unexpected skip: ok [0-9]* negative_control: planted_skip' "$log/negative-skips.log" &&
   grep -q '^# unexpected skip: *ok 1 nested_planted # SKIP' "$log/negative-skips.log"; then
	result ok "make check refuses a skip that is not on the accepted list, top level and nested"
else
	sed 's/^/# /' "$log/negative-skips.log"
	result fail "make check refuses a skip that is not on the accepted list, top level and nested"
fi
# The same output with its last result cut off, as if the runner had died.
awk -v last="$(grep -nE '^(not )?ok [0-9]+ ' "$log/vmtest.ktap" | tail -n1 | cut -d: -f1)" \
	'NR != last' "$log/vmtest.ktap" >"$log/truncated.ktap"
if ! check_counts "$log/truncated.ktap" 0 >/dev/null; then
	result ok "make check refuses a run whose last results are missing"
else
	result fail "make check refuses a run whose last results are missing"
fi
# A plan that is not there, has no tests or a misspelt keyword must not pass
# as "nothing failed", nor boot a VM.
printf '# a plan without tests\ntopology none\n' >"$neg/no_tests.plan"
printf 'topolgy none\n1 must_not_boot sh true\n' >"$neg/misspelt.plan"
: >"$log/negative-noplan.ktap"
passed_anyway=0
for p in "$neg/does_not_exist.plan" "$neg/no_tests.plan" "$neg/misspelt.plan"; do
	vmtest "$neg" "$p" >>"$log/negative-noplan.ktap" 2>&1 && passed_anyway=1
done
if [ "$passed_anyway" = 0 ] && [ ! -e "$neg/misspelt" ] &&
   [ "$(grep -c '^Bail out!.*no such plan, no tests or a bad line' "$log/negative-noplan.ktap")" = 3 ]; then
	result ok "vmtest.sh fails a missing plan, a plan without tests and a misspelt keyword"
else
	sed 's/^/# /' "$log/negative-noplan.ktap"
	result fail "vmtest.sh fails a missing plan, a plan without tests and a misspelt keyword"
fi
if grep -q '^not ok .*negative_control_bug: guest log free of splats' "$log/negative.ktap" &&
   grep -qE 'kernel BUG at|Oops:' "$log/negative.ktap"; then
	result ok "a BUG() (no 'BUG:' line) in the guest log fails the run"
else
	sed 's/^/# /' "$log/negative.ktap"
	result fail "a BUG() (no 'BUG:' line) in the guest log fails the run"
fi
again='first boot hung before PCI enumeration, booting once more'
if grep -q '^not ok .*negative_control_hang: VM ran to the end # timed out' "$log/negative.ktap" &&
   ! grep -q "negative_control_hang: $again" "$log/negative.ktap" &&
   [ "$(grep -c "negative_control_early_hang: $again" "$log/negative.ktap")" = 1 ] &&
   grep -q '^not ok .*negative_control_early_hang: VM ran to the end # timed out' "$log/negative.ktap"; then
	result ok "a hang fails the run; only a first boot hung before PCI is booted again, once"
else
	sed 's/^/# /' "$log/negative.ktap"
	result fail "a hang fails the run; only a first boot hung before PCI is booted again, once"
fi
finish
