package reactor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
)

func TestSecretAuthentication(t *testing.T) {
	secret := []byte("correct horse battery staple")
	tests := []struct {
		name string
		bind bool
	}{
		{name: "listen"},
		{name: "bind", bind: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			host := newContext(t, r, WithSecret(secret))
			var addr string
			if tt.bind {
				_, addr = bindLocal(t, host)
			} else {
				_, addr = listenLocal(t, host)
			}
			hostRx := newRecorder(t, host, testSlot)
			peer := newContext(t, newReactor(t), WithSecret(secret))
			peerRx := newRecorder(t, peer, testSlot)
			c, err := peer.Connect(testkit.Context(t), addr, "")
			require.NoError(t, err)
			assert.True(t, c.IsConnected())
			send(t, peer, "to the host")
			send(t, host, "to the peer")
			assert.Equal(t, []string{"to the host"}, payloads(hostRx.waitN(t, 1)))
			assert.Equal(t, []string{"to the peer"}, payloads(peerRx.waitN(t, 1)))
		})
	}
}

func TestSecretRefusals(t *testing.T) {
	r := newReactor(t)
	host := newContext(t, r, WithSecret([]byte("ours")))
	l, addr := listenLocal(t, host)

	t.Run("wrong secret", func(t *testing.T) {
		peer := newContext(t, r, WithSecret([]byte("theirs")))
		_, err := peer.Connect(testkit.Context(t), addr, "")
		require.ErrorIs(t, err, ErrConnect)
		require.ErrorIs(t, err, ErrAuth)
		assert.Contains(t, err.Error(), "refused")
	})
	t.Run("no secret", func(t *testing.T) {
		peer := newContext(t, r)
		c, err := peer.Connect(testkit.Context(t), addr, "")
		if err == nil {
			// The challenge came after Connect returned: the connection
			// closes as soon as it arrives.
			testkit.Wait(t, c.Done(), "the refused connection to close")
			err = &closedError{c.CloseReason()}
		}
		assert.Contains(t, err.Error(), ReasonAuth)
	})
	t.Run("a peer that never answers the challenge", func(t *testing.T) {
		// As Python does: it sends its first package (here a heartbeat).
		p, _ := connectRaw(t, addr, false)
		var got []string
		for {
			h, data, err := p.readAnyFrame(waitTimeout)
			if err != nil {
				break // EOF: closed
			}
			switch {
			case h.Slot == linkSlot:
				got = append(got, strings.TrimPrefix(string(data), linkPrefix+" "))
			case h == closePackage:
				got = append(got, "close")
			}
		}
		require.Len(t, got, 3, "challenge, refusal, close package: %q", got)
		assert.True(t, strings.HasPrefix(got[0], "auth-challenge="), got[0])
		assert.Equal(t, []string{"auth=refused", "close"}, got[1:])
	})
	t.Run("host without secret", func(t *testing.T) {
		plain := newContext(t, r)
		_, plainAddr := listenLocal(t, plain)
		peer := newContext(t, r, WithSecret([]byte("ours")))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := peer.Connect(ctx, plainAddr, "")
		require.ErrorIs(t, err, ErrAuth)
		assert.Contains(t, err.Error(), "no challenge")
	})
	assert.Equal(t, 0, l.ConnectionCount(), "nobody got in")
	_, err := r.NewContext(WithSecret(nil))
	assert.ErrorIs(t, err, ErrBadOption)
}

type closedError struct{ reason string }

func (e *closedError) Error() string { return e.reason }
