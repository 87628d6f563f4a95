#!/usr/bin/env bash
# Fetch, verify and unpack the Linux 7.3 base tree (Debian's linux-source-7.3).
# Usage: fetch-base.sh DESTDIR   -> DESTDIR/linux-source-7.3 is the pristine tree.
# The .deb is cached in $CACHE_DIR (default ~/.cache/pci-liveupdate) so reruns do not fetch.
set -euo pipefail

PKG=linux-source-7.3
VER=7.3.4-1~bpo13+1
SUITE=trixie-backports
SHA256=703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3
DEB="${PKG}_${VER//:/%3a}_all.deb"

dest=${1:?usage: fetch-base.sh DESTDIR}
cache=${CACHE_DIR:-$HOME/.cache/pci-liveupdate}
die() { echo "fetch-base: $*" >&2; exit 1; }

mkdir -p "$cache" "$dest"
deb="$cache/$DEB"

verify() { echo "$SHA256  $1" | sha256sum -c --quiet - >/dev/null 2>&1; }

if [ -f "$deb" ] && ! verify "$deb"; then
	echo "fetch-base: cached $deb has the wrong sha256, fetching again" >&2
	rm -f "$deb"
fi

if [ ! -f "$deb" ]; then
	# Reuse the Debian mirror the system already uses; only the suite differs.
	uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
	      tr ' ' '\n' | grep -m1 '/debian/\?$' || true)
	[ -n "$uri" ] || uri=$(awk '$1=="deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' \
			      /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$uri" ] || die "no Debian mirror found in /etc/apt; set LINUX_SRC=/path/to/linux-7.3 instead"

	apt_dir="$cache/apt"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $SUITE main" \
		>"$apt_dir/sources.list"
	apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list"
		  -o Dir::Etc::SourceParts=/dev/null
		  -o "Dir::State::Lists=$apt_dir/lists"
		  -o "Dir::Cache::Archives=$apt_dir/archives"
		  -o APT::Get::List-Cleanup=0)
	echo "fetch-base: fetching $PKG $VER from $SUITE"
	apt-get -q "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1 ||
		die "apt-get update for $SUITE failed (see $apt_dir/update.log)"
	(cd "$cache" && apt-get -q "${apt_opts[@]}" download "$PKG=$VER") >"$apt_dir/download.log" 2>&1 ||
		die "apt-get download $PKG=$VER failed (see $apt_dir/download.log)"
	[ -f "$deb" ] || die "download did not produce $deb"
	verify "$deb" || { rm -f "$deb"; die "sha256 mismatch for $DEB (expected $SHA256); file removed"; }
fi

tree="$dest/$PKG"
if [ ! -f "$tree/Makefile" ]; then
	tmp=$(mktemp -d "$dest/.unpack.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./usr/src/$PKG.tar.xz ||
		die "cannot extract $PKG.tar.xz from $deb"
	tar -xJf "$tmp/usr/src/$PKG.tar.xz" -C "$tmp" || die "cannot unpack $PKG.tar.xz"
	rm -rf "$tree"
	mv "$tmp/$PKG" "$tree"
fi
echo "$tree"
