package reactor

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/goyoton/yoton/wire"
)

// Shared-secret authentication between Go contexts
// (docs/protocol-notes.md, "Authentication").
//
// A context made WithSecret hosts only peers that prove they know the
// same secret, and connects only to hosts that ask for the proof. Right
// after the handshake lines the host sends a link message with a random
// challenge; the connecting side answers with a link message carrying
// HMAC-SHA256(secret, "goyoton-auth/1", challenge, host id, own id); the
// host answers "auth=ok" and the connection goes on, or "auth=refused"
// and yoton's close package. A Python peer (or a Go one without the
// secret) never answers the challenge, so the host refuses it when its
// first package arrives: the peer sees "Closed from other end.".

// ErrAuth is returned (wrapped) by Connect when the shared-secret
// authentication fails: the host refused the proof, or asked for none.
var ErrAuth = errors.New("yoton: authentication failed")

// ReasonAuth starts the close reason of a connection refused for lack of
// authentication (Go only).
const ReasonAuth = "Authentication failed."

const (
	authNonceSize = 16
	authLabel     = "goyoton-auth/1"
	// maxAuthFrame bounds what a host reads while it waits for the proof.
	maxAuthFrame = wire.HeaderSize + 512
)

// WithSecret makes the context authenticate every connection with a
// shared secret, as host and as connecting side (see ErrAuth). Both ends
// must be Go contexts with the same secret; Python peers are refused.
// The secret is copied. It proves knowledge of the secret only; it does
// not encrypt anything. Safe for concurrent use.
func WithSecret(secret []byte) ContextOption {
	return contextOptionFunc(func(c *contextConfig) error {
		if len(secret) == 0 {
			return fmt.Errorf("%w: empty secret", ErrBadOption)
		}
		c.secret = bytes.Clone(secret)
		return nil
	})
}

// authProof is what the connecting side peerID sends to host hostID for
// the challenge nonce.
func authProof(secret, nonce []byte, hostID, peerID uint64) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(authLabel))
	m.Write(nonce)
	var ids [16]byte
	binary.LittleEndian.PutUint64(ids[:8], hostID)
	binary.LittleEndian.PutUint64(ids[8:], peerID)
	m.Write(ids[:])
	return m.Sum(nil)
}

// linkFrame is a whole link message from source with the given fields.
func linkFrame(source uint64, fields string) []byte {
	data := linkPrefix + " " + fields
	b := wire.AppendHeader(make([]byte, 0, wire.HeaderSize+len(data)),
		wire.Header{Slot: linkSlot, SourceID: source, Length: uint64(len(data))})
	return append(b, data...)
}

// parseLinkFrame decodes one link message at the start of buf. It
// returns its fields and its length; n is 0 while buf holds only part of
// it, and err is set when buf does not start with a link message.
func parseLinkFrame(buf []byte) (fields map[string]string, n int, err error) {
	if len(buf) < wire.HeaderSize {
		return nil, 0, nil
	}
	h, err := wire.DecodeHeader(buf[:wire.HeaderSize])
	if err != nil {
		return nil, 0, err
	}
	if h.Slot != linkSlot || h.SourceSeq != 0 || h.Length > uint64(maxAuthFrame-wire.HeaderSize) {
		return nil, 0, fmt.Errorf("expected a link message, got slot %d seq %d length %d", h.Slot, h.SourceSeq, h.Length)
	}
	end := wire.HeaderSize + int(h.Length)
	if len(buf) < end {
		return nil, 0, nil
	}
	rest, ok := bytes.CutPrefix(buf[wire.HeaderSize:end], []byte(linkPrefix))
	if !ok {
		return nil, 0, errors.New("not a goyoton link message")
	}
	fields = map[string]string{}
	for _, f := range strings.Fields(string(rest)) {
		if k, v, ok := strings.Cut(f, "="); ok {
			fields[k] = v
		}
	}
	return fields, end, nil
}

// hostChallenge starts the host's side of the authentication: it writes
// the challenge. Loop goroutine.
func (h *hostHandshake) hostChallenge() {
	h.nonce = make([]byte, authNonceSize)
	_, _ = rand.Read(h.nonce)
	_, _ = h.gc.Write(linkFrame(h.acc.x.id, "auth-challenge="+hex.EncodeToString(h.nonce)))
}

// hostVerify takes bytes from a peer that owes the proof. It returns what
// came after the proof once it was accepted (done true), nothing while
// the proof is incomplete, and refuses the peer (done true, ok false)
// when the proof is wrong or something else came first. Loop goroutine.
func (h *hostHandshake) hostVerify(buf []byte) (rest []byte, done, ok bool) {
	prev := len(h.authBuf)
	h.authBuf = append(h.authBuf, buf[:min(len(buf), maxAuthFrame-prev)]...)
	fields, n, err := parseLinkFrame(h.authBuf)
	if err == nil && n == 0 {
		if len(h.authBuf) >= maxAuthFrame {
			err = errors.New("proof too long")
		} else {
			return nil, false, false
		}
	}
	x := h.acc.x
	if err == nil {
		proof, derr := hex.DecodeString(fields["auth"])
		if derr != nil || !hmac.Equal(proof, authProof(x.secret, h.nonce, x.id, h.peerID)) {
			err = errors.New("wrong proof")
		}
	}
	if err != nil {
		x.handshakeFailures.Add(1)
		x.r.logEvent(slog.LevelWarn, h.acc.acceptAttrs(h.remote(), err), "yoton: %s: %s did not authenticate: %v", h.acc.addr, h.remote(), err)
		_, _ = h.gc.Write(linkFrame(x.id, "auth=refused"))
		return nil, true, false
	}
	_, _ = h.gc.Write(linkFrame(x.id, "auth=ok"))
	h.authBuf = nil
	return buf[n-prev:], true, true // the frame began in earlier bytes, ended in buf
}

// clientAuth runs the connecting side of the authentication on nc, right
// after the handshake: read the challenge (from early first), answer it,
// read the verdict. It returns what the host sent after the verdict.
func clientAuth(nc net.Conn, early []byte, secret []byte, id, hostID uint64, deadline time.Time) ([]byte, error) {
	buf := early
	next := func() (map[string]string, error) {
		for {
			fields, n, err := parseLinkFrame(buf)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				buf = buf[n:]
				return fields, nil
			}
			_ = nc.SetReadDeadline(deadline)
			chunk := make([]byte, maxAuthFrame)
			m, rerr := nc.Read(chunk)
			buf = append(buf, chunk[:m]...)
			if rerr != nil && m == 0 {
				return nil, rerr
			}
		}
	}
	defer nc.SetReadDeadline(time.Time{})
	fields, err := next()
	if err != nil {
		return nil, fmt.Errorf("%w: no challenge from the host (does it have WithSecret?): %v", ErrAuth, err)
	}
	nonce, err := hex.DecodeString(fields["auth-challenge"])
	if err != nil || len(nonce) != authNonceSize {
		return nil, fmt.Errorf("%w: no challenge from the host (does it have WithSecret?)", ErrAuth)
	}
	_ = nc.SetWriteDeadline(deadline)
	_, err = nc.Write(linkFrame(id, "auth="+hex.EncodeToString(authProof(secret, nonce, hostID, id))))
	_ = nc.SetWriteDeadline(time.Time{})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAuth, err)
	}
	fields, err = next()
	if err != nil {
		return nil, fmt.Errorf("%w: no verdict from the host: %v", ErrAuth, err)
	}
	if fields["auth"] != "ok" {
		return nil, fmt.Errorf("%w: the host refused the proof (another secret?)", ErrAuth)
	}
	return buf, nil
}
