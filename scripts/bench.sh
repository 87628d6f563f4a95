#!/usr/bin/env bash
# make bench: measure the Live Update (numbers, not pass/fail) and print a
# table; the table also replaces the benchmark section of README.md.
# One VM at a time.  BENCH_TREE=/path/to/linux runs the guest programs and
# plans of another tree (default: $WORK/linux); the kernel is $WORK/build.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}
tree=${BENCH_TREE:-$work/linux}
st=$tree/tools/testing/selftests/pci_liveupdate
out=$work/bench
sizes=${BENCH_SIZES:-1 8 32 64}
mkdir -p "$out"

ms() { local now=${EPOCHREALTIME/./}; echo $(( (now - t0) / 1000 )); }
# stamp REGEX FILE: host time (ms since QEMU started) of matching lines
stamp() {
	local line
	tail -n +1 -F -s 0.01 --pid="$vm" "$2" 2>/dev/null | while IFS= read -r line; do
		line=${line//[^[:print:]]/}
		[[ $line =~ $1 ]] && printf '%d %s\n' "$(ms)" "${BASH_REMATCH[0]}"
	done
}

# run PLAN: one VM; BENCH lines to $out/NAME.vals, host stamps to NAME.stamps
run() {
	local plan=$st/bench/$1.plan name=$1 rc s1
	rm -rf "${out:?}/$name"
	printf '%-16s ' "$name" >&2
	t0=${EPOCHREALTIME/./}
	"$st/vmtest.sh" -b "$work/build" -o "$out" "$plan" >"$out/$name.ktap" 2>&1 &
	vm=$!
	while [ ! -e "$out/$name/console.log" ] && kill -0 $vm 2>/dev/null; do sleep 0.01; done
	{
		stamp 'BENCH_MARK [a-z_]+|# stage 1 done' "$out/$name/results.raw" &
		s1=$!
		stamp 'kexec_core: Starting new kernel' "$out/$name/console.log" &
		wait $s1 $!
	} >"$out/$name.stamps"
	wait $vm
	rc=$?
	grep -ao 'BENCH [a-z_]* .*' "$out/$name/results.ktap" 2>/dev/null |
		awk '{print $2, $3}' >"$out/$name.vals"
	echo "$(( $(ms) / 1000 )) s, vmtest exit $rc" >&2
}

# v NAME KEY: a measured value, or n/a
v() { awk -v k="$2" '$1 == k {print $2; f=1} END {if (!f) print "n/a"}' "$out/$1.vals"; }
# at NAME PATTERN: host ms of the first stamp matching PATTERN
at() { awk -v p="$2" 'index($0, p) {print $1; exit}' "$out/$1.stamps"; }
num() { [[ $1 =~ ^[0-9.]+$ ]]; }
div() { num "$1" && num "$2" && awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN {printf f, a / b}' || echo n/a; }
sub() { num "$1" && num "$2" && awk -v a="$1" -v b="$2" 'BEGIN {print a - b}' || echo n/a; }
add() { num "$1" && num "$2" && awk -v a="$1" -v b="$2" 'BEGIN {print a + b}' || echo n/a; }

# The VT-d hand-over: one update of the IOMMU-mode VMM (bench_iommu)
iommu_table() {
	local i=bench_iommu d=$out/bench_iommu pages faults offs

	[ -f "$out/$i.vals" ] || return 0
	pages=$(grep -ao 'translation handed over ([^)]*' "$d/console.log" 2>/dev/null |
		head -n1 | sed 's/.*, \([0-9]*\) page-table pages.*/\1/')
	faults=$(grep -c vtd_dmar_fault "$d/trace.log" 2>/dev/null)
	offs=$(grep -c 'vtd_dmar_enable enable 0' "$d/trace.log" 2>/dev/null)
	echo "IOMMU hand-over (VT-d, legacy mode; 4 MiB of guest memory in a memfd, 1024 pages at"
	echo "scrambled IOVAs; one update of the VMM of vfio_iommu_continuous; ms after the new kernel's init):"
	echo
	echo "| what | value |"
	echo "|---|---|"
	echo "| Bus Master cleared by the freeze (1) or kept (0) | $(v $i iommu_bus_master_cleared) |"
	echo "| DMAs in flight at the kexec / lost | $(v $i iommu_in_flight_at_kexec) / $(v $i iommu_lost_at_kexec) |"
	echo "| memfd retrieved | $(v $i iommu_memfd_retrieved_ms) |"
	echo "| device bound, DMAing through the old kernel's tables | $(v $i iommu_bound_ms) |"
	echo "| device attached to a new HWPT (after 1024 one-page maps) | $(v $i iommu_attached_ms) |"
	echo "| DMAs from the bind to after the attach / lost | $(v $i iommu_dmas_across_attach) / $(v $i iommu_lost_at_attach) |"
	echo "| VT-d DMA faults (QEMU trace, whole run) | ${faults:-n/a} |"
	echo "| translation turned off (QEMU trace; 1 = the final power off) | ${offs:-n/a} |"
	echo "| page-table pages handed over (KHO bytes) | ${pages:-n/a} ($(( ${pages:-0} * 4096 ))) |"
	echo
}

# Interrupts across one update: the NIC of make demo (bench_msix)
msix_table() {
	local m=bench_msix

	[ -f "$out/$m.vals" ] || return 0
	echo "Interrupts across one update (the VMM of make demo: its e1000e keeps MSI-X enabled, noiommu;"
	echo "the host takes the NIC's link down through QMP after the VMM took its eventfds away):"
	echo
	echo "| what | value |"
	echo "|---|---|"
	echo "| interrupts raised during the update (pending in the PBA at retrieve) | $(v $m msix_raised_during_update) |"
	echo "| delivered after VFIO_DEVICE_SET_IRQS in the new kernel | $(v $m msix_delivered_after) |"
	echo "| lost (goal 0) | $(v $m msix_lost) |"
	echo "| first interrupt delivered, ms after the new kernel's init | $(v $m msix_first_irq_ms) |"
	echo
}

table() {
	local s=bench_service n name pa pb ra rb ho init kx bm cfg

	cfg=$work/build/.config
	echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
	echo "QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}') TCG, guest 2 vCPUs 2 GiB;"
	echo "kernel $(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' "$work/build/include/generated/utsrelease.h")" \
		"KASAN=$(grep -q '^CONFIG_KASAN=y' "$cfg" && echo y || echo n)" \
		"PROVE_LOCKING=$(grep -q '^CONFIG_PROVE_LOCKING=y' "$cfg" && echo y || echo n)." \
		"One run each; TCG timings vary by tens of ms."
	echo
	echo "Back in service after kexec (ms; device A preserved, B reset on open, same VM run):"
	echo
	echo "| step | A preserved | B reset path |"
	echo "|---|---|---|"
	echo "| program started, after init ($s) | $(v $s program_start_ms) | (same) |"
	echo "| retrieve session + FD | $(v $s a_retrieve_ms) | - |"
	echo "| open cdev (B), BIND_IOMMUFD + attach, BAR mmap | $(v $s a_bind_ms) | $(v $s b_open_bind_ms) |"
	echo "| IOAS_MAP 2 MiB | $(v $s a_map_ms) | $(v $s b_map_ms) |"
	echo "| set Bus Master (A) / Memory + Bus Master (B) | $(v $s a_cmd_ms) | $(v $s b_cmd_ms) |"
	echo "| first edu DMA, 1 KiB device to RAM (edu takes ~100) | $(v $s a_dma_ms) | $(v $s b_dma_ms) |"
	pa=$(v $s a_total_ms); pb=$(v $s b_total_ms)
	echo "| path total (B/A: $(div "$pb" "$pa" %.2f)) | $pa | $pb |"
	ra=$(v $s a_in_service_ms)
	# B ran after A: count its path from the moment A's started
	rb=$(add "$(v $s a_start_ms)" "$pb")
	echo "| path started, ms after PCI_LU_INIT_MS | $(v $s a_start_ms) | $(v $s b_start_ms) (counted as $(v $s a_start_ms)) |"
	echo "| in service, ms after PCI_LU_INIT_MS (B/A: $(div "$rb" "$ra" %.2f)) | $ra | $rb (measured $(v $s b_in_service_ms)) |"
	echo "| VFIO_LIVEUPDATE_RESET / flags | $(v $s a_reset) / $(v $s a_flags) | $(v $s b_reset) / $(v $s b_flags) |"
	echo "| first DMA returned the data written before kexec | $(v $s a_dma_data_ok) | $(v $s b_dma_data_ok) |"
	echo
	echo "B's reset_method in the new kernel was \"$(v $s b_reset_method_was)\" (restricted to \"bus\" if not)."
	echo "QEMU 7.2 has no trace event for an edu or PCI bus reset: the flag is the only count."
	echo
	ho=$(at $s handoff); init=$(at $s '# stage 1 done'); kx=$(at $s 'Starting new kernel')
	bm=$(at $s bus_master_on)
	echo "DMA blackout of A (host clock, serial lines stamped on arrival, ~10 ms polling):"
	echo
	echo "| from | to Bus Master on with mappings restored (ms) |"
	echo "|---|---|"
	echo "| program: about to let init kexec (before the freeze: upper bound) | $(sub "$bm" "$ho") |"
	echo "| init: \"# stage 1 done, kexec into stage 2\" (before the freeze: upper bound) | $(sub "$bm" "$init") |"
	echo "| kernel: \"kexec_core: Starting new kernel\" (after the freeze: lower bound) | $(sub "$bm" "$kx") |"
	echo
	echo "This blackout is the IOMMU fallback: A's memory is anonymous, which cannot be handed over,"
	echo "so the freeze clears its Bus Master. With a preserved memfd the translation is handed over"
	echo "and the device's DMA does not stop (next table)."
	echo
	iommu_table
	msix_table
	echo "Preserve and lookup cost by device count (edu-many:N: a root port and a switch per 8 devices):"
	echo
	echo "| N | entries | open all (ms) | preserve phase (ms) | PRESERVE_FD avg / min / max (us) | PCI KHO bytes | per device | entries restored | restore (us) | lookups | handed over | retrieve all FDs (ms) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for n in $sizes; do
		name=bench_scale_$n
		[ -f "$out/$name.vals" ] || continue
		echo "| $n | $(v "$name" out_outgoing_entries) | $(v "$name" open_all_ms)" \
			"| $(v "$name" preserve_phase_ms)" \
			"| $(v "$name" preserve_fd_avg_us) / $(v "$name" preserve_fd_min_us) / $(v "$name" preserve_fd_max_us)" \
			"| $(v "$name" out_outgoing_kho_bytes) | $(div "$(v "$name" out_outgoing_kho_bytes)" "$n" %.0f)" \
			"| $(v "$name" in_restored_entries) | $(v "$name" in_restore_us)" \
			"| $(v "$name" in_lookups) | $(v "$name" in_lookups_found)" \
			"| $(v "$name" retrieve_all_ms) |"
	done
	echo
	echo "KHO memory per preserved edu device: vfio-pci record $(v $s vfio_record_bytes) bytes" \
		"($(( $(v $s vfio_record_bytes) - $(v $s vfio_record_cfg_size) - $(v $s vfio_record_state_size) )) header + $(v $s vfio_record_cfg_size) config" \
		"+ $(v $s vfio_record_state_size) saved state with no capability buffers)," \
		"allocated as $(v $s vfio_record_kho_bytes) bytes (kho_alloc_preserve: a folio of whole pages);" \
		"PCI set: see \"per device\" above (includes the bridges above the devices)."
	echo "New-kernel numbers come from the PCI core's trace events (trace_event= on the plans' command"
	echo "line): restore is the time between pci_liveupdate_restore_start and pci_liveupdate_restore"
	echo "(microsecond timestamps, KASAN and TCG included); lookups are one per device enumerated,"
	echo "\"handed over\" those that found an entry (devices and the bridges above them)."
}

# BENCH_REPORT_ONLY=1: tabulate the last runs again without running VMs
if [ -z "${BENCH_REPORT_ONLY:-}" ]; then
	echo "PCI Live Update benchmark: guest programs from $tree; VM logs in $out" >&2
	run bench_service
	run bench_iommu
	run bench_msix
	for n in $sizes; do
		run "bench_scale_$n"
	done
fi
table | tee "$out/table.md"

# README: replace what lies between the markers
if grep -q '^<!-- bench:begin -->' "$top/README.md"; then
	awk -v f="$out/table.md" '/^<!-- bench:end -->/ {while ((getline l < f) > 0) print l; print ""; skip = 0}
		!skip {print} /^<!-- bench:begin -->/ {print ""; skip = 1}' \
		"$top/README.md" >"$out/README.md" && cp "$out/README.md" "$top/README.md"
	echo "README.md updated" >&2
fi
