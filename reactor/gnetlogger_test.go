package reactor

import (
	"testing"

	"github.com/panjf2000/gnet/v2/pkg/logging"
	"github.com/stretchr/testify/assert"
)

// TestGnetDefaultLoggerUntouched: starting a reactor leaves gnet's
// process-wide default logger as it was (gnet.NewClient replaces it with
// the client's logger), so other gnet engines in the process keep theirs.
func TestGnetDefaultLoggerUntouched(t *testing.T) {
	before := logging.GetDefaultLogger()
	newReactor(t)
	assert.True(t, logging.GetDefaultLogger() == before, "gnet's default logger was replaced")
}
