#!/usr/bin/env bash
# The patch queue: series/ is the source of truth, $WORK/linux a git tree made from it.
#   series.sh tree     base + git am of series/ (refuses to drop unexported work)
#   series.sh export   tree commits -> series/ (byte-stable; refuses to clobber)
#   series.sh status   non-zero if the tree holds work that is not in series/
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
series=$top/series
work=${WORK:-$top/work}
tree=$work/linux
cache=${CACHE_DIR:-$HOME/.cache/pci-liveupdate}
snap=$tree/.git/pci-lu-series	# series/ as of the last tree/export
fp_opts=(--zero-commit --no-signature --cover-letter --cover-from-description=subject
	 --no-numbered-files --subject-prefix=PATCH -q)

die() { echo "series: $*" >&2; exit 1; }
# A fixed abbreviation: index lines must not depend on how many objects a
# repository happens to hold.
g() { git -C "$tree" -c core.abbrev=9 "$@"; }

base_repo() {
	local src=${LINUX_SRC:-}
	local name=base-7.3.4
	[ -n "$src" ] && name=base-local-$(realpath "$src" | sha1sum | cut -c1-12)
	local repo=$cache/$name.git
	if ! git --git-dir="$repo" rev-parse -q --verify refs/tags/base >/dev/null 2>&1; then
		if [ -z "$src" ]; then
			src=$("$top/scripts/fetch-base.sh" "$cache/src" | tail -n1)
		fi
		[ -f "$src/Makefile" ] && [ -d "$src/kernel" ] || die "$src is not a kernel tree"
		echo "series: importing base tree $src into $repo (once)" >&2
		rm -rf "$repo"
		git init -q --bare "$repo"
		local gd=(git --git-dir="$repo" --work-tree="$src")
		"${gd[@]}" add -Af . >/dev/null
		# Fixed identity and date: the base commit id is the same on every machine.
		GIT_AUTHOR_NAME=base GIT_AUTHOR_EMAIL=base@localhost \
		GIT_COMMITTER_NAME=base GIT_COMMITTER_EMAIL=base@localhost \
		GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' \
			"${gd[@]}" commit -q -m "Linux 7.3.4 (Debian linux-source-7.3 7.3.4-1~bpo13+1)"
		git --git-dir="$repo" tag base
		rm -f "$repo/index"
	fi
	echo "$repo"
}

# Write the tree's commits as a patch series into $1.
export_to() {
	local out=$1 desc
	mkdir -p "$out"
	desc=$(g config --get branch.series.description || true)
	[ -n "$desc" ] || die "the tree has no cover letter text (git -C $tree branch --edit-description series)"
	[ "$(g rev-list --count base..series)" -gt 0 ] || die "no commits on top of base"
	# format-patch signs the cover letter with the committer's identity and
	# the current time.  Take both from the series' last commit instead, so
	# that the export depends on the series alone, not on who runs it when.
	local name email date
	name=$(g log -1 --format=%an series)
	email=$(g log -1 --format=%ae series)
	date=$(g log -1 --format=%ad --date=raw series)
	GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email GIT_COMMITTER_DATE=$date \
		g format-patch "${fp_opts[@]}" -o "$out" base..series
	# format-patch also marks the cover letter 8-bit when any commit was
	# committed by someone whose name is not ASCII (git am makes the local
	# user the committer).  Let its own content decide.
	local cover=$out/0000-cover-letter.patch
	if ! LC_ALL=C grep -q '[^ -~	]' "$cover"; then
		sed -i '1,/^$/{/^MIME-Version: 1.0$/d;/^Content-Type: text\/plain; charset=UTF-8$/d;/^Content-Transfer-Encoding: 8bit$/d}' "$cover"
	fi
}

same_dir() { diff -rq "$1" "$2" >/dev/null 2>&1; }

# Prints what the tree holds that series/ does not; returns 1 if anything.
unexported() {
	local tmp rc=0 dirty
	[ -d "$tree/.git" ] || return 0
	dirty=$(g status --porcelain --ignored --untracked-files=normal | head -n 20)
	if [ -n "$dirty" ]; then
		echo "uncommitted edits in $tree:"; echo "$dirty"; rc=1
	fi
	if [ "$(g symbolic-ref -q --short HEAD || true)" != series ]; then
		echo "$tree is not on branch 'series'"; rc=1
	fi
	tmp=$(mktemp -d)
	export_to "$tmp" 2>/dev/null || true
	if ! same_dir "$tmp" "$snap"; then
		echo "commits in $tree not exported to series/:"
		diff -rq "$snap" "$tmp" 2>&1 | sed 's/^/  /' | head -n 20
		rc=1
	fi
	rm -rf "$tmp"
	return $rc
}

cmd_tree() {
	[ -d "$series" ] && ls "$series"/0000-cover-letter.patch >/dev/null 2>&1 ||
		die "no series/0000-cover-letter.patch"
	local repo
	repo=$(base_repo)
	if [ -d "$tree/.git" ]; then
		if ! out=$(unexported); then
			echo "$out" >&2
			die "refusing to rebuild $tree: it holds work not in series/. Run 'make export' first (or move the tree away)."
		fi
		if same_dir "$series" "$snap"; then
			echo "series: $tree is up to date with series/"
			return 0
		fi
		g am --abort >/dev/null 2>&1 || true
		# reset, not re-clone: unchanged files keep their mtimes, so builds stay incremental
		g checkout -q -f -B series base
	else
		mkdir -p "$work"
		git clone -q --no-checkout "$repo" "$tree"
		g config user.name "${GIT_AUTHOR_NAME:-$(git config user.name || echo developer)}"
		g config user.email "${GIT_AUTHOR_EMAIL:-$(git config user.email || echo developer@localhost)}"
		g checkout -q -b series base
	fi
	local p
	for p in "$series"/[0-9][0-9][0-9][0-9]-*.patch; do
		[ -e "$p" ] || continue
		case $p in */0000-cover-letter.patch) continue ;; esac
		if ! g am -q --keep-cr "$p" >/dev/null 2>"$work/am.err"; then
			g am --abort >/dev/null 2>&1 || true
			sed 's/^/  /' "$work/am.err" >&2
			die "patch does not apply: ${p#"$top"/}"
		fi
	done
	# The cover letter's subject and text become the branch description.
	awk '/^Subject: /{sub(/^Subject: \[PATCH[^]]*\] /,""); s=$0; h=1; next}
	     h && /^ / {s=s $0; next}
	     {h=0}
	     s!="" && !b && /^$/ {b=1; print s; print ""; next}
	     b && /^[^ ].* \([0-9]+\):$/ {exit}
	     b {print}' "$series/0000-cover-letter.patch" |
		sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$work/cover.txt"
	g config branch.series.description "$(cat "$work/cover.txt")"
	rm -rf "$snap"; cp -r "$series" "$snap"
	echo "series: $tree = base + $(g rev-list --count base..series) patches"
}

cmd_export() {
	[ -d "$tree/.git" ] || die "no tree at $tree (make tree)"
	local dirty
	dirty=$(g status --porcelain --ignored --untracked-files=normal | head -n 20)
	[ -z "$dirty" ] || { echo "$dirty" >&2; die "commit or drop these edits in $tree first"; }
	same_dir "$series" "$snap" ||
		die "series/ changed since the tree was made from it; exporting would overwrite that. Save your tree commits (git -C $tree format-patch), then make tree."
	local tmp
	tmp=$(mktemp -d)
	export_to "$tmp"
	if same_dir "$tmp" "$series"; then
		echo "series: nothing to export"
	else
		rm -f "$series"/*.patch
		cp "$tmp"/*.patch "$series"/
		echo "series: exported $(ls "$tmp" | wc -l) files to series/"
	fi
	rm -rf "$snap"; cp -r "$series" "$snap"; rm -rf "$tmp"
}

cmd_status() {
	[ -d "$tree/.git" ] || { echo "series: no tree"; return 0; }
	local out
	if ! out=$(unexported); then
		echo "$out"
		echo "series: run 'make export' and commit series/"
		return 1
	fi
	same_dir "$series" "$snap" || echo "series: note: series/ is newer than $tree (make tree)"
	return 0
}

case ${1:-} in
tree) cmd_tree ;;
export) cmd_export ;;
status) cmd_status ;;
*) die "usage: series.sh tree|export|status" ;;
esac
