#!/usr/bin/env bash
# install-deps.sh: install what the bench module needs beyond Go modules:
# libzmq's headers and library (Debian's libzmq3-dev), for the libzmq
# system (github.com/pebbe/zmq4 through cgo, built with -tags libzmq).
#
# Idempotent: does nothing when pkg-config already finds libzmq. Runs
# apt-get update first when the package is not known yet. Uses sudo when
# not root and sudo exists. yotonbench runs this script itself (it is
# embedded in the binary) when libzmq is missing; CI runs it before
# `go test -tags libzmq ./...` (see bench/README.md).
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*" >&2; }

have_libzmq() {
	if command -v pkg-config >/dev/null 2>&1; then
		pkg-config --exists libzmq
	else
		[ -e /usr/include/zmq.h ]
	fi
}

if have_libzmq && command -v pkg-config >/dev/null 2>&1; then
	log "libzmq $(pkg-config --modversion libzmq) is installed"
	exit 0
fi

apt_get() {
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get "$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
	else
		DEBIAN_FRONTEND=noninteractive apt-get "$@"
	fi
}

if ! command -v apt-get >/dev/null 2>&1; then
	log "no apt-get: install libzmq (>= 4) development files and pkg-config by hand"
	exit 1
fi

if ! apt-cache show libzmq3-dev >/dev/null 2>&1; then
	log "running apt-get update"
	apt_get update -q
fi
log "installing libzmq3-dev and pkg-config with apt-get"
if ! apt_get install -y -q libzmq3-dev pkg-config; then
	log "install failed; retrying after apt-get update"
	apt_get update -q
	apt_get install -y -q libzmq3-dev pkg-config
fi
log "libzmq $(pkg-config --modversion libzmq) is installed"
