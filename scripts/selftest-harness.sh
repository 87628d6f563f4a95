#!/usr/bin/env bash
# make selftest-harness: the harness works for someone who is not its author.
# A copy of this repository in a directory more than 100 characters deep, used
# under another git identity and another clock, must
#   1. apply the series (make tree), and apply it again (make tree),
#   2. see nothing unexported (make series-status) and export nothing new
#      (make export): series/ stays byte for byte what it was,
#   3. boot a VM whose QMP socket answers, with its logs in that deep directory
#      (UNIX socket paths are limited to 107 bytes).
# Prints KTAP; exits non-zero if anything failed.  Needs a built kernel
# ($WORK/build) for step 3.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$top/work}

# The copy lives under $work, padded until its path is well over 100 bytes.
deep=$work/harness/a-checkout-directory-as-deep-as-a-newcomer-might-have-it
while [ ${#deep} -le 110 ]; do deep+=/and-deeper; done
rm -rf "$work/harness"
mkdir -p "$deep/repo"

n=0 fail=0
result() { # result RC "what"
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=1; fi
}
quiet() { # quiet LOG CMD...: run CMD, show LOG only if it failed
	local log=$1 rc
	shift
	"$@" >"$log" 2>&1
	rc=$?
	[ $rc = 0 ] || sed 's/^/# /' "$log"
	return $rc
}

echo "KTAP version 1"
echo "1..4"
echo "# copy in $deep/repo (${#deep} bytes deep)"

# The working tree as it is (tracked and new files), not only what is committed.
git -C "$top" ls-files -z --cached --others --exclude-standard |
	(cd "$top" && tar --null -T - -cf -) | tar -xf - -C "$deep/repo"

# Long enough for header folding in mail, and not ASCII.
who="Zoë Ångström-Newcomer, Another Developer With A Long Name"
cat >"$deep/gitconfig" <<END
[user]
	name = $who
	email = another.developer.with.a.long.address@example.invalid
END
stranger=(env GIT_CONFIG_GLOBAL="$deep/gitconfig" GIT_CONFIG_NOSYSTEM=1
	  GIT_AUTHOR_NAME="$who" GIT_COMMITTER_NAME="$who"
	  GIT_AUTHOR_EMAIL=another@example.invalid GIT_COMMITTER_EMAIL=another@example.invalid
	  GIT_AUTHOR_DATE="2031-02-03T04:05:06Z" GIT_COMMITTER_DATE="2031-02-03T04:05:06Z"
	  WORK="$deep/repo/work")
mk() { "${stranger[@]}" make -s -C "$deep/repo" "$@"; }

quiet "$deep/tree1.log" mk tree && quiet "$deep/tree2.log" mk tree
result $? "make tree twice, from a deep directory under another git identity"

quiet "$deep/status.log" mk series-status
result $? "make series-status: an untouched tree holds nothing unexported"

quiet "$deep/export.log" mk export &&
	grep -q 'nothing to export' "$deep/export.log" &&
	quiet "$deep/diff.log" diff -r "$top/series" "$deep/repo/series"
result $? "make export of an untouched tree leaves series/ byte for byte as it was"

# A one-stage VM run whose guest asks QEMU for its status over QMP.
st=$deep/repo/work/linux/tools/testing/selftests/pci_liveupdate
cat >"$deep/qmp_from_a_deep_directory.plan" <<'END'
# Harness self-test: QEMU starts and its QMP socket answers, whatever the depth
# of the log directory.
topology none
iommu off
timeout 120
1 qmp_relayed sh echo 'QMP: {"execute": "query-status"}'; sleep 5
host qmp_answered grep -q '"status": "running"' qmp.log
END
quiet "$deep/vmtest.log" "$st/vmtest.sh" -b "$work/build" -o "$deep/repo/work/vmtest" \
	"$deep/qmp_from_a_deep_directory.plan"
rc=$?
result $rc "a VM run with its logs in the deep directory boots, and QMP answers"

# Keep the copy only if something failed.
[ $fail = 0 ] && rm -rf "$work/harness"
exit $fail
