#!/bin/sh
# Install the Debian packages fragreplay needs, only those that are missing.
# Runs as root on a fresh Debian bookworm machine (CI, a developer's box).
set -e
PKGS="gcc make pkg-config libtracecmd-dev libtracefs-dev libtraceevent-dev \
      libzstd-dev libjansson-dev libcmocka-dev trace-cmd zstd time chromium"
# Extra packages for one target (e.g. `make fuzz`) come as arguments.
PKGS="$PKGS $*"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root, or apt-get install them)" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends $missing >&2
