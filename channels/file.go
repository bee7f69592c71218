package channels

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Writer is yoton's FileWrapper around a text PubChannel: an io.Writer
// whose every Write is published as one text message (or several, when
// longer than the chunk size). It is what a kernel uses for stdout and
// stderr. Safe for concurrent use; Write may wait like PubChannel.Send.
type Writer struct {
	pub   *PubChannel[string]
	ctx   context.Context
	chunk int
}

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WithChunkSize splits writes longer than n bytes into messages of at
// most n bytes, cut at UTF-8 character boundaries (yoton's chunksize;
// 0, the default, never splits).
func WithChunkSize(n int) WriterOption { return func(w *Writer) { w.chunk = max(n, 0) } }

// WithWriteContext sets the context that bounds Write's waits for room
// (io.Writer has no ctx argument); the default never ends.
func WithWriteContext(ctx context.Context) WriterOption { return func(w *Writer) { w.ctx = ctx } }

// NewWriter wraps a text publisher as an io.Writer.
func NewWriter(pub *PubChannel[string], opts ...WriterOption) *Writer {
	w := &Writer{pub: pub, ctx: context.Background()}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Write publishes p as text (one message per chunk). It returns len(p)
// or the first send error; an empty p sends nothing. After Close it
// returns an error wrapping ErrClosed.
func (w *Writer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s := string(p)
	for len(s) > 0 {
		part := s
		if w.chunk > 0 && len(part) > w.chunk {
			cut := w.chunk
			for cut > 0 && !utf8.RuneStart(part[cut]) {
				cut--
			}
			if cut == 0 { // a chunk smaller than one character
				_, size := utf8.DecodeRuneInString(part)
				cut = size
			}
			part = part[:cut]
		}
		if err := w.pub.Send(w.ctx, part); err != nil {
			return len(p) - len(s), err
		}
		s = s[len(part):]
	}
	return len(p), nil
}

// WriteString is Write for a string, without the conversion.
func (w *Writer) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// Flush waits until everything written so far has been handed to the
// kernel on every connection (Context.Flush).
func (w *Writer) Flush(ctx context.Context) error { return w.pub.Context().Flush(ctx) }

// Close closes the underlying channel. Idempotent.
func (w *Writer) Close() error { return w.pub.Close() }

// Reader is yoton's FileWrapper around a text SubChannel: an io.Reader
// over the stream of received messages, plus line and message reads.
// Read returns io.EOF once the channel is closed and drained. Safe for
// concurrent use (reads are serialised).
type Reader struct {
	sub  *SubChannel[string]
	ctx  context.Context
	echo *PubChannel[string]

	mu   sync.Mutex
	rest string // unread part of the last message taken by Read
}

// ReaderOption configures a Reader.
type ReaderOption func(*Reader)

// WithEcho republishes every message read on echo (yoton's echo, used to
// show a kernel's stdin on its stdout).
func WithEcho(echo *PubChannel[string]) ReaderOption { return func(r *Reader) { r.echo = echo } }

// WithReadContext sets the context that bounds Read (io.Reader has no
// ctx argument); the default never ends.
func WithReadContext(ctx context.Context) ReaderOption { return func(r *Reader) { r.ctx = ctx } }

// NewReader wraps a text subscriber as an io.Reader.
func NewReader(sub *SubChannel[string], opts ...ReaderOption) *Reader {
	r := &Reader{sub: sub, ctx: context.Background()}
	for _, o := range opts {
		o(r)
	}
	return r
}

// recv takes the next message, echoing it; a closed, drained channel
// gives io.EOF.
func (r *Reader) recv(ctx context.Context) (string, error) {
	m, err := r.sub.Recv(ctx)
	if errors.Is(err, ErrClosed) {
		return "", io.EOF
	}
	if err != nil {
		return "", err
	}
	if r.echo != nil && m != "" {
		if err := r.echo.Send(ctx, m); err != nil {
			return m, err
		}
	}
	return m, nil
}

// Read copies received text into p, waiting for a message when nothing
// is buffered. A message longer than p is returned over several Reads.
func (r *Reader) Read(p []byte) (int, error) { return r.ReadContext(r.ctx, p) }

// ReadContext is Read bounded by ctx.
func (r *Reader) ReadContext(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rest == "" {
		m, err := r.recv(ctx)
		if err != nil {
			return 0, err
		}
		r.rest = m
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// ReadMessage returns the next message whole (text left over from a
// partial Read first), yoton's read().
func (r *Reader) ReadMessage(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rest != "" {
		m := r.rest
		r.rest = ""
		return m, nil
	}
	return r.recv(ctx)
}

// ReadLine is yoton's readline(): the next message, with "\n" appended
// when it does not end with one. (yoton sends one line per message; it
// does not search the stream for newlines.)
func (r *Reader) ReadLine(ctx context.Context) (string, error) {
	m, err := r.ReadMessage(ctx)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(m, "\n") {
		m += "\n"
	}
	return m, nil
}

// Close closes the underlying channel; reads return what is queued and
// then io.EOF. Idempotent.
func (r *Reader) Close() error { return r.sub.Close() }
