#!/usr/bin/env bash
# The one test command (README "Run the tests"; .ci/run runs it too).
# Installs what the tests need (the Python yoton peer from Debian's pyzo
# package), then runs vet, gofmt, the race-enabled test suite with every
# fuzz seed corpus, and the bench module's own smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== installing the Python yoton peer (cached)"
bash scripts/fetch-pyzo.sh
echo "== installing the bench module's C dependency (libzmq, for the cgo comparison)"
bash bench/scripts/install-deps.sh

echo "== gofmt"
unformatted=$(gofmt -l . | grep -v '^bench/.*_gen' || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...
echo "== cross-compile (macOS, Windows): the library and its tools build there"
GOOS=darwin GOARCH=arm64 go build ./...
GOOS=windows GOARCH=amd64 go build ./...
GOOS=darwin GOARCH=arm64 go vet ./reactor ./channels ./clientserver ./timers ./futures ./wire ./slots
(cd bench && go vet ./... && go vet -tags libzmq ./...)

echo "== go test -race ./... (library, interop, examples, fuzz seeds)"
go test -race -count=1 ./...
echo "== full-size memory test (1 GiB to a peer that never reads; no -race, which would distort memory)"
YOTON_LARGE_TESTS=1 go test -count=1 -run 'TestPublishOneGiBToStalledPeer' ./reactor/

echo "== bench module smoke test"
(cd bench && go test -count=1 -tags libzmq ./...)
