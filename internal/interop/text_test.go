package interop

import (
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/goyoton/yoton/channels"
)

// textOutcome is one read as peer.py reports it: a value or an exception.
type textOutcome struct {
	Value     *string `json:"value"`
	Exception *string `json:"exception"`
}

// pyUnicodeError returns the message of a UnicodeDecodeError outcome,
// failing the test for anything else.
func pyUnicodeError(t *testing.T, what string, o textOutcome) string {
	t.Helper()
	if o.Exception == nil || !strings.HasPrefix(*o.Exception, "UnicodeDecodeError: ") {
		t.Fatalf("%s: Python gave %+v, want a UnicodeDecodeError", what, o)
	}
	return strings.TrimPrefix(*o.Exception, "UnicodeDecodeError: ")
}

// sameOutcome checks a Go read (m, err) against Python's: the same text,
// or ErrDecode with the text of Python's UnicodeDecodeError.
func sameOutcome(t *testing.T, what string, m string, err error, py textOutcome) {
	t.Helper()
	if py.Exception != nil {
		msg := pyUnicodeError(t, what, py)
		if !errors.Is(err, channels.ErrDecode) || !strings.HasSuffix(err.Error(), ": "+msg) {
			t.Errorf("%s: Go read %q, %v; Python raised %q", what, m, err, msg)
		}
		return
	}
	if py.Value == nil || err != nil || m != *py.Value {
		t.Errorf("%s: Go read %q, %v; Python %+v", what, m, err, py)
	}
}

// invalidTexts are payloads of every kind Python's strict decoder
// refuses, with valid ones between them.
var invalidTexts = []string{
	"valid é✓🎉", "\xff", "a\x80b", "\xe6\x97", "\xe6\x97x", "\xe0\x80\x80", "\xed\xa0\x80",
	"\xf0\x90\x80", "\xf4\x90\x80\x80", "\xc0\x80", "\xc2", "\xf0\x90\x80x", "ok é\xf8",
	"\xe6x", "\xe0\x80", "\xe0", "nul\x00", "\xf5\x80\x80\x80", "last",
}

// TestTextInvalidUTF8Python: Python's TEXT decodes strictly (no
// replacement, nothing ignored); Go's Text refuses the same payloads with
// the same messages, and on a channel both report the bad message in its
// place and go on with the next one.
func TestTextInvalidUTF8Python(t *testing.T) {
	ctx, x, p := linked(t, directions[0].link)

	// The codec itself.
	hexes := make([]any, len(invalidTexts))
	for i, s := range invalidTexts {
		hexes[i] = hex.EncodeToString([]byte(s))
	}
	var decoded struct {
		Results []textOutcome `json:"results"`
	}
	p.call(map[string]any{"op": "text_decode", "hex": hexes}, &decoded)
	if len(decoded.Results) != len(invalidTexts) {
		t.Fatalf("Python decoded %d of %d", len(decoded.Results), len(invalidTexts))
	}
	for i, s := range invalidTexts {
		m, err := channels.Text.Decode([]byte(s))
		sameOutcome(t, "decode "+hex.EncodeToString([]byte(s)), m, err, decoded.Results[i])
	}

	// Go → Python: Python's recv raises for the bad ones, in place.
	p.call(map[string]any{"op": "sub", "slot": "news"}, nil)
	awaitLink(t, ctx, x, p, "main")
	raw, err := channels.NewPubChannel(x, "news", rawText)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range invalidTexts {
		if err := raw.Send(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	var pyRecv struct {
		Results []textOutcome `json:"results"`
		Pending int           `json:"pending"`
	}
	p.call(map[string]any{"op": "recv_each", "slot": "news", "count": len(invalidTexts)}, &pyRecv)

	// Python → Go: Go's Recv reports the same, in place.
	p.call(map[string]any{"op": "raw_text", "slot": "news-py"}, nil)
	sub, err := channels.NewSubChannel(x, "news-py", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	awaitLink(t, ctx, x, p, "main")
	p.call(map[string]any{"op": "raw_text_send", "slot": "news-py", "hex": hexes}, nil)
	for i := range invalidTexts {
		m, err := sub.Recv(ctx)
		if err != nil && !errors.Is(err, channels.ErrDecode) {
			t.Fatalf("Recv %d: %v", i, err)
		}
		sameOutcome(t, "recv "+hex.EncodeToString([]byte(invalidTexts[i])), m, err, pyRecv.Results[i])
	}

	// recv_all: Python loses every message it popped when one fails;
	// Go's RecvAll returns the others and the error (a deliberate
	// difference).
	batch := []any{hex.EncodeToString([]byte("a")), hex.EncodeToString([]byte("\xff")), hex.EncodeToString([]byte("b"))}
	for _, h := range batch {
		b, _ := hex.DecodeString(h.(string))
		if err := raw.Send(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	p.call(map[string]any{"op": "recv_each", "slot": "news", "count": len(batch), "all": true}, &pyRecv)
	if len(pyRecv.Results) != 1 || pyRecv.Results[0].Exception == nil || pyRecv.Pending != 0 {
		t.Errorf("Python recv_all: %+v, pending %d; want a UnicodeDecodeError and nothing left", pyRecv.Results, pyRecv.Pending)
	}
	p.call(map[string]any{"op": "raw_text_send", "slot": "news-py", "hex": batch}, nil)
	p.call(map[string]any{"op": "pub", "slot": "news-mark"}, nil)
	mark, err := channels.NewSubChannel(x, "news-mark", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	awaitLink(t, ctx, x, p, "main")
	p.call(map[string]any{"op": "send", "slot": "news-mark", "value": "mark"}, nil)
	if m, err := mark.Recv(ctx); err != nil || m != "mark" {
		t.Fatalf("marker: %q, %v", m, err)
	}
	all, err := sub.RecvAll()
	if !errors.Is(err, channels.ErrDecode) || strings.Join(all, ",") != "a,b" {
		t.Errorf("Go RecvAll: %q, %v; want [a b] and ErrDecode", all, err)
	}
}

// TestTextInvalidUTF8State: a state that is not UTF-8 is dropped at
// arrival and the previous state stays, in Python (its receiving thread
// prints the UnicodeDecodeError) and in Go.
func TestTextInvalidUTF8State(t *testing.T) {
	ctx, x, p := linked(t, directions[1].link)
	p.call(map[string]any{"op": "state", "slot": "st"}, nil)
	p.call(map[string]any{"op": "sub", "slot": "mark"}, nil)
	goState, err := channels.NewStateChannel(x, "st-py", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	goMark, err := channels.NewSubChannel(x, "mark-py", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	p.call(map[string]any{"op": "raw_text", "slot": "st-py", "kind": "state"}, nil)
	p.call(map[string]any{"op": "pub", "slot": "mark-py"}, nil)
	awaitLink(t, ctx, x, p, "main")

	// Go → Python.
	raw, err := channels.NewStateChannel(x, "st", rawText)
	if err != nil {
		t.Fatal(err)
	}
	markPub, err := channels.NewPubChannel(x, "mark", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"good", "bad \xff"} {
		if err := raw.Send(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := markPub.Send(ctx, "mark"); err != nil {
		t.Fatal(err)
	}
	if got := p.recv("mark", "text", 1); len(got) != 1 || got[0] != "mark" {
		t.Fatalf("Python marker: %q", got)
	}
	var st struct {
		Value string `json:"value"`
	}
	p.call(map[string]any{"op": "state_recv", "slot": "st"}, &st)
	if st.Value != "good" {
		t.Errorf("Python state %q, want the previous one, %q", st.Value, "good")
	}
	// What Python printed from its receiving thread.
	var log struct {
		Lines []string `json:"lines"`
	}
	p.call(map[string]any{"op": "wait_log", "contains": "codec can't decode byte 0xff in position 4"}, &log)
	if !slices.Contains(log.Lines, "Error depositing package in ReceivingThread.") {
		t.Errorf("Python's log: %q", log.Lines)
	}

	// Python → Go.
	p.call(map[string]any{"op": "raw_text_send", "slot": "st-py", "kind": "state",
		"hex": []any{hex.EncodeToString([]byte("good")), hex.EncodeToString([]byte("bad \xff"))}}, nil)
	p.call(map[string]any{"op": "send", "slot": "mark-py", "value": "mark"}, nil)
	if m, err := goMark.Recv(ctx); err != nil || m != "mark" {
		t.Fatalf("Go marker: %q, %v", m, err)
	}
	if s, ok := goState.Recv(); !ok || s != "good" {
		t.Errorf("Go state %q (%v), want the previous one, %q", s, ok, "good")
	}
}
