#!/usr/bin/env bash
# fetch-pyzo.sh: install the Python yoton 2.2 peer used by the interop tests.
#
# Downloads Debian's `pyzo` package (which ships yoton inside it) and unpacks
# it into a cache directory, without installing it system-wide:
#
#   ${YOTON_PYZO_DIR:-$HOME/.cache/goyoton/pyzo}/usr/share/pyzo/pyzo/yoton
#
# Idempotent: does nothing when the cache is already populated. Needs a
# Debian-like system with apt; installs python3 with apt-get when missing
# (run as root in CI). Prints the PYTHONPATH to use at the end; the Go tests
# (internal/pypeer) find the cache on their own.
set -euo pipefail

dir="${YOTON_PYZO_DIR:-$HOME/.cache/goyoton/pyzo}"
pypath="$dir/usr/share/pyzo/pyzo"

log() { printf 'fetch-pyzo: %s\n' "$*" >&2; }

# Run apt-get with sudo when we are not root and sudo exists.
apt_get() {
	if [ "$(id -u)" -eq 0 ]; then
		apt-get "$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo apt-get "$@"
	else
		apt-get "$@"
	fi
}

apt_updated=0
apt_update_once() {
	if [ "$apt_updated" -eq 0 ]; then
		log "running apt-get update"
		apt_get update
		apt_updated=1
	fi
}

# Python 3 is the interpreter the peer scripts run on.
if ! command -v python3 >/dev/null 2>&1; then
	log "python3 not found; installing it with apt-get"
	if ! DEBIAN_FRONTEND=noninteractive apt_get install -y --no-install-recommends python3; then
		apt_update_once
		DEBIAN_FRONTEND=noninteractive apt_get install -y --no-install-recommends python3
	fi
fi

if [ -f "$pypath/yoton/__init__.py" ]; then
	log "already installed in $dir"
else
	for tool in apt-get dpkg-deb; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			log "$tool not found: this script needs a Debian-like system"
			exit 1
		fi
	done

	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	# apt-get download writes into the current directory. As root, apt may
	# warn that the _apt sandbox user cannot access $tmp: harmless.
	chmod 755 "$tmp"
	log "downloading pyzo with apt-get download"
	if ! (cd "$tmp" && apt-get download pyzo); then
		apt_update_once
		(cd "$tmp" && apt-get download pyzo)
	fi

	deb="$(find "$tmp" -maxdepth 1 -name 'pyzo_*.deb' | head -n 1)"
	if [ -z "$deb" ]; then
		log "apt-get download produced no pyzo_*.deb"
		exit 1
	fi
	log "unpacking $(basename "$deb") into $dir"
	mkdir -p "$dir"
	dpkg-deb -x "$deb" "$dir"

	if [ ! -f "$pypath/yoton/__init__.py" ]; then
		log "the package did not contain usr/share/pyzo/pyzo/yoton"
		exit 1
	fi
fi

version="$(PYTHONPATH="$pypath" python3 -c 'import yoton; print(yoton.__version__)')"
log "yoton $version is importable"
echo "PYTHONPATH=$pypath"
