#!/usr/bin/env bash
# Install what building and testing need (Debian packages).
set -euo pipefail
pkgs=(build-essential flex bison bc cpio rsync kmod libelf-dev libssl-dev
      python3 python3-ply python3-git perl git xz-utils qemu-system-x86 busybox-static sparse)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages; run as root: apt-get update && $cmd" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
$cmd -q >/tmp/pci-lu-deps.log 2>&1 || { tail -n 20 /tmp/pci-lu-deps.log >&2; echo "deps: apt-get install failed (log above)" >&2; exit 1; }
