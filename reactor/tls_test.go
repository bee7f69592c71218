package reactor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
)

// testCertificate makes a self-signed certificate for 127.0.0.1 and
// returns it with a pool that trusts it.
func testCertificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "yoton test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestTLS(t *testing.T) {
	cert, pool := testCertificate(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS13}
	r := newReactor(t)
	host := newContext(t, r, WithTLS(cfg))
	l, addr := listenLocal(t, host)
	hostRx := newRecorder(t, host, testSlot)

	peer := newContext(t, newReactor(t), WithTLS(cfg))
	peerRx := newRecorder(t, peer, testSlot)
	c, err := peer.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	waitConnections(t, l, 1)
	big := make([]byte, 3<<20) // larger than every buffer on the way
	for i := range big {
		big[i] = byte(i)
	}
	require.NoError(t, peer.send(testkit.Context(t), testSlot, big, 0, 0))
	send(t, host, "encrypted back")
	got := hostRx.waitN(t, 1)
	assert.Equal(t, big, got[0].Data)
	assert.Equal(t, []string{"encrypted back"}, payloads(peerRx.waitN(t, 1)))

	// A plain client gets no yoton handshake out of a TLS host, and a
	// TLS client that does not trust the host's certificate fails.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = newContext(t, r).Connect(ctx, addr, "")
	assert.ErrorIs(t, err, ErrConnect)
	stranger := newContext(t, r, WithTLS(&tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS13}))
	_, err = stranger.Connect(testkit.Context(t), addr, "")
	assert.ErrorIs(t, err, ErrTLS)
	assert.Equal(t, 1, l.ConnectionCount())

	c.Close("")
	waitConnections(t, l, 0)
	_, err = r.NewContext(WithTLS(nil))
	assert.ErrorIs(t, err, ErrBadOption)
}

// TestTLSWithSecretOverBind: TLS and the shared secret together, on a
// Bind, and a reconnect through both after the host comes back.
func TestTLSWithSecretOverBind(t *testing.T) {
	cert, pool := testCertificate(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS13}
	opts := []ContextOption{WithTLS(cfg), WithSecret([]byte("both"))}
	r := newReactor(t)
	host := newContext(t, r, opts...)
	bound, addr := bindLocal(t, host)
	rx := newRecorder(t, host, testSlot)
	peer := newContext(t, newReactor(t), opts...)
	down := make(chan DisconnectedEvent, 2)
	up := make(chan *Connection, 2)
	p := fastReconnect
	p.OnDisconnect = func(e DisconnectedEvent) { down <- e }
	p.OnReconnect = func(c *Connection) { up <- c }
	_, err := peer.Connect(testkit.Context(t), addr, "", WithReconnect(p))
	require.NoError(t, err)
	waitEstablished(t, bound)
	send(t, peer, "secret and encrypted")
	assert.Equal(t, []string{"secret and encrypted"}, payloads(rx.waitN(t, 1)))

	require.NoError(t, host.Close())
	testkit.Wait(t, down, "Disconnected")
	host2 := newContext(t, r, opts...)
	rx2 := newRecorder(t, host2, testSlot)
	l2, err := host2.Listen(addr)
	require.NoError(t, err)
	defer l2.Close()
	testkit.Wait(t, up, "Reconnected through TLS and the secret")
	send(t, peer, "again")
	assert.Equal(t, []string{"again"}, payloads(rx2.waitN(t, 1)))
}
