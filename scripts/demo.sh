#!/usr/bin/env bash
# make demo: a VM goes through a kexec Live Update; show what happened when
# (host clock, ms since QEMU started) and what survived.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}
st=$work/linux/tools/testing/selftests/pci_liveupdate
plan=$st/${DEMO_PLAN:-demo}.plan
out=$work/demo
name=$(basename "$plan" .plan)
rm -rf "$out"; mkdir -p "$out"

ms() { local now=${EPOCHREALTIME/./}; echo $(( (now - t0) / 1000 )); }
stamp() { # stamp TAG REGEX FILE: until the VM is gone
	local line
	tail -n +1 -F -s 0.05 --pid="$vm" "$3" 2>/dev/null | while IFS= read -r line; do
		line=${line//[^[:print:]]/}
		# kernel lines: drop the printk timestamp (and firmware escape debris)
		[[ $line =~ \[\ *[0-9]+\.[0-9]+\]\ (.*)$ ]] && line=${BASH_REMATCH[1]}
		[[ $line == "Linux version "* ]] && line=${line%% (*}
		[[ $line =~ $2 ]] && printf '%7d ms  %-6s %s\n' "$(ms)" "$1" "${line#    }"
	done
}

echo "Live Update demo: $(grep -m1 '^#' "$plan" | sed 's/^# *//')"
echo "(QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}'), TCG; logs in $out/$name)"
echo
t0=${EPOCHREALTIME/./}
"$st/vmtest.sh" -b "$work/build" -o "$out" "$plan" >"$out/vmtest.ktap" 2>&1 &
vm=$!
while [ ! -e "$out/$name/console.log" ] && kill -0 $vm 2>/dev/null; do sleep 0.05; done
{
	stamp guest '(VMM|VERDICT|^# stage|^(not )?ok |preserved$|back in service)' \
		"$out/$name/results.raw" &
	stamp kernel '^(Linux version|kexec_core: Starting new kernel|Run /init|KHO: exec)' \
		"$out/$name/console.log" &
	wait
} | tee "$out/timeline.txt" &
wait $vm
rc=$?
wait
echo
awk '/Starting new kernel/ && !k {k=$1}
     k && /Run \/init/ && !i && $1 > k {i=$1}
     /stage 2 of/ {s=$1}
     END {if (k && i) printf "kexec to the new kernel'"'"'s init: %d ms (host clock)\n", i - k
	  if (k && s) printf "kexec to stage 2 running: %d ms\n", s - k}' "$out/timeline.txt"
echo
grep -E '^(not )?ok |^# Totals' "$out/vmtest.ktap"
echo
raw=$out/$name/results.raw
resets=$(awk -v event=e1000e_cb_qdev_reset -f "$st/trace_windows.awk" \
	"$out/$name/trace.log" 2>/dev/null)
first=$(sed -n 's/.*VMM *\([0-9]*\) ms: first DMA in this kernel landed.*/\1/p' "$raw" | tail -n1)
read -r r0 r1 r2 <<<"${resets:-? ? ?}"
echo "Resets of the preserved e1000e in QEMU's trace: $r0 before preservation" \
	"(2 expected: machine start, first vfio open), ${r1:-?} from preservation" \
	"to back in service in the new kernel (0 expected), ${r2:-?} after (0 expected)"
sed -n 's/.*VERDICT: /DMA: /p' "$raw"
pba=$(sed -n 's/.*NIC retrieved: .*PBA \(0x[0-9a-f]*\).*/\1/p' "$raw" | tail -n1)
irq=$(sed -n 's/.*NIC eventfds back: raised in the update, delivered \([0-9]*\).*/\1/p' "$raw" | tail -n1)
echo "NIC interrupts: MSI-X stayed enabled; the link change raised during the update was" \
	"pending at retrieve (PBA ${pba:-?}, 0x10 expected) and delivered ${irq:-?} time(s) (1 expected)"
[ -n "$first" ] && echo "New kernel's first user space instruction to the device's first DMA: $first ms"
if [ $rc = 0 ]; then
	echo "VERDICT: live update done: guest memory intact, every DMA landed, the NIC's interrupt arrived once, the NIC not reset from its preservation to back in service"
else
	echo "VERDICT: FAILED (see $out/vmtest.ktap and $out/$name/console.log)"
fi
exit $rc
