// Package scripts holds the bench module's shell scripts, embedded so that
// yotonbench can run them wherever it is started from.
package scripts

import _ "embed"

// InstallDeps is install-deps.sh: it installs libzmq3-dev with apt-get
// when libzmq is missing.
//
//go:embed install-deps.sh
var InstallDeps []byte
