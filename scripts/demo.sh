#!/usr/bin/env bash
# make demo: a VM goes through a kexec Live Update; show what happened when
# (host clock, ms since QEMU started) and what survived.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}
st=$work/linux/tools/testing/selftests/pci_liveupdate
plan=$st/${DEMO_PLAN:-lu_memfd_demo}.plan
out=$work/demo
name=$(basename "$plan" .plan)
rm -rf "$out"; mkdir -p "$out"

ms() { local now=${EPOCHREALTIME/./}; echo $(( (now - t0) / 1000 )); }
stamp() { # stamp TAG REGEX FILE
	tail -n +1 -F "$3" 2>/dev/null | tr -d '\r' | while IFS= read -r line; do
		[[ $line =~ $2 ]] && printf '%7d ms  %-7s %s\n' "$(ms)" "$1" "${line#    }"
	done
}

echo "Live Update demo: $(grep -m1 '^#' "$plan" | sed 's/^# *//')"
echo "(QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}'), TCG; logs in $out/$name)"
echo
t0=${EPOCHREALTIME/./}
"$st/vmtest.sh" -b "$work/build" -o "$out" "$plan" >"$out/vmtest.ktap" 2>&1 &
vm=$!
while [ ! -e "$out/$name/console.log" ] && kill -0 $vm 2>/dev/null; do sleep 0.05; done
stamp guest '(DEMO:|^# stage|^(not )?ok )' "$out/$name/results.raw" &
s1=$!
stamp kernel '(Linux version|kexec_core: Starting new kernel|Run /init|liveupdate: |KHO: )' \
	"$out/$name/console.log" &
s2=$!
wait $vm
rc=$?
sleep 0.3
kill $s1 $s2 2>/dev/null; pkill -P $s1 2>/dev/null; pkill -P $s2 2>/dev/null
wait 2>/dev/null
echo
grep -E '^(not )?ok |^# Totals' "$out/vmtest.ktap"
if [ $rc = 0 ]; then
	echo "VERDICT: live update done, guest memory intact"
else
	echo "VERDICT: FAILED (see $out/vmtest.ktap and $out/$name/console.log)"
fi
exit $rc
