package channels

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/goyoton/yoton/reactor"
)

// This file is yoton's FileWrapper (channels_file.py), split in two: a
// Writer around a text PubChannel and a Reader around a text SubChannel.

// WriterOption configures a Writer (NewWriter), which validates it: an
// invalid value is an error wrapping reactor.ErrBadOption. Options are
// immutable values, safe for concurrent use.
type WriterOption interface{ applyWriter(*Writer) error }

// ReaderOption configures a Reader (NewReader), which validates it as
// NewWriter does. Options are immutable values, safe for concurrent use.
type ReaderOption interface{ applyReader(*Reader) error }

// FileOption configures a Writer or a Reader: it is both a WriterOption
// and a ReaderOption. Options are immutable values, safe for concurrent
// use.
type FileOption interface {
	WriterOption
	ReaderOption
}

type writerOptionFunc func(*Writer) error

func (f writerOptionFunc) applyWriter(w *Writer) error { return f(w) }

type readerOptionFunc func(*Reader) error

func (f readerOptionFunc) applyReader(r *Reader) error { return f(r) }

// isattyOption is WithIsatty.
type isattyOption bool

func (o isattyOption) applyWriter(w *Writer) error { w.isatty = bool(o); return nil }
func (o isattyOption) applyReader(r *Reader) error { r.isatty = bool(o); return nil }

// WithIsatty sets what Isatty reports (yoton's FileWrapper(...,
// isatty=...); false by default, as in yoton). Pyzo's kernel wraps its
// stdin, stdout and stderr with isatty=True, so that the code it runs
// behaves as in a terminal (prompts, colours). The Writer or Reader does
// nothing else with it. Safe for concurrent use.
func WithIsatty(isatty bool) FileOption { return isattyOption(isatty) }

// Writer is yoton's FileWrapper around a text PubChannel: an io.Writer
// whose every Write is published as one text message (or several, when
// longer than the chunk size). It is what a kernel uses for stdout and
// stderr.
//
// Python writes str, which is always whole characters; an io.Writer gets
// bytes, and a writer upstream (bufio.Writer, io.Copy from a pipe) may
// cut a character in two. A Write that ends inside a UTF-8 character
// therefore holds those bytes back (at most 3) and sends them with the
// next Write, so that every message is valid text. Bytes that are not
// UTF-8 at all are refused (see Write).
//
// Safe for concurrent use: Writes are serialised, so the messages of one
// Write are never interleaved with another's. Write may wait like
// PubChannel.Send. On the loop goroutine nothing waits: while another
// goroutine is in the middle of a Write (which may wait for a full
// subscriber), Write, WriteString, WriteLines and Close there return an
// error wrapping reactor.ErrBlockingCall instead of stalling the loop.
type Writer struct {
	pub    *PubChannel[string]
	ctx    context.Context
	chunk  int
	isatty bool

	mu      sync.Mutex
	partial []byte // the start of a character cut by the last Write
}

// WithChunkSize splits writes longer than n bytes into messages of at
// most n bytes, cut at UTF-8 character boundaries (yoton's chunksize,
// which counts characters; 0, the default, never splits; a negative n
// is an error). Safe for concurrent use.
func WithChunkSize(n int) WriterOption {
	return writerOptionFunc(func(w *Writer) error {
		if n < 0 {
			return fmt.Errorf("%w: WithChunkSize(%d)", reactor.ErrBadOption, n)
		}
		w.chunk = n
		return nil
	})
}

// WithWriteContext sets the context that bounds Write's waits for room
// (io.Writer has no ctx argument); the default never ends. Safe for
// concurrent use.
func WithWriteContext(ctx context.Context) WriterOption {
	return writerOptionFunc(func(w *Writer) error {
		if ctx == nil {
			return fmt.Errorf("%w: WithWriteContext(nil)", reactor.ErrBadOption)
		}
		w.ctx = ctx
		return nil
	})
}

// NewWriter wraps a text publisher as an io.Writer. It fails with an
// error wrapping reactor.ErrBadOption for an invalid option. Safe for
// concurrent use.
func NewWriter(pub *PubChannel[string], opts ...WriterOption) (*Writer, error) {
	w := &Writer{pub: pub, ctx: context.Background()}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", reactor.ErrBadOption)
		}
		if err := o.applyWriter(w); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Write publishes p as text, one message per chunk. It returns len(p)
// once everything is sent (or held back: an incomplete character at the
// end of p waits for the rest in the next Write), or the first send
// error with the number of bytes of p sent before it; an empty p sends
// nothing. Bytes that are not UTF-8 (other than such an incomplete
// character at the end) are refused with an error wrapping ErrEncode,
// before anything is sent, as Python's FileWrapper (errors "strict")
// refuses what it cannot encode; the incomplete character held from the
// previous Write is then dropped too. After Close it returns an error
// wrapping reactor.ErrClosed. Its waits for room end with the Writer's
// context (WithWriteContext); WriteContext takes one per call. Safe for
// concurrent use.
func (w *Writer) Write(p []byte) (int, error) { return w.WriteContext(w.ctx, p) }

// WriteContext is Write with ctx bounding its waits for room instead of
// the Writer's context. Safe for concurrent use.
func (w *Writer) WriteContext(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := w.lock(); err != nil {
		return 0, err
	}
	defer w.mu.Unlock()
	held := len(w.partial)
	b := p
	if held > 0 {
		b = append(w.partial, p...)
	}
	cut := len(b) - incompleteTail(b)
	s := string(b[:cut])
	if !utf8.ValidString(s) {
		w.partial = nil
		start, _, _ := invalidUTF8(s)
		if start < held {
			return 0, fmt.Errorf("%w (txt): the character begun by the previous Write does not go on in this one", ErrEncode)
		}
		return 0, fmt.Errorf("%w (txt): written bytes are not valid UTF-8: byte 0x%02x at position %d", ErrEncode, s[start], start-held)
	}
	sent, err := w.sendLocked(ctx, s)
	if err != nil {
		w.partial = nil
		return max(sent-held, 0), err
	}
	w.partial = append(w.partial[:0], b[cut:]...)
	return len(p), nil
}

// sendLocked publishes s in chunks and returns how many bytes it sent.
// Under mu.
func (w *Writer) sendLocked(ctx context.Context, s string) (int, error) {
	sent := 0
	for sent < len(s) {
		part := s[sent:]
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
		if err := w.pub.Send(ctx, part); err != nil {
			return sent, err
		}
		sent += len(part)
	}
	return sent, nil
}

// incompleteTail returns the length of the incomplete but so far valid
// UTF-8 character at the end of b (0 to 3 bytes).
func incompleteTail(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if !utf8.RuneStart(b[i]) {
			continue
		}
		if b[i] >= 0xc2 && !utf8.FullRune(b[i:]) {
			return len(b) - i
		}
		return 0
	}
	return 0
}

// WriteString is Write for a string. Safe for concurrent use.
func (w *Writer) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// WriteLines is yoton's writelines(lines): it publishes every line as a
// message of its own, as it is: no newline is added, lines are not split
// at the chunk size (as in yoton, whose writelines ignores chunksize),
// and empty lines send nothing. It stops at the first line that cannot
// be sent (one that is not valid UTF-8 fails with ErrEncode) and returns
// its error; the lines before it have been sent, as in yoton. An
// incomplete character held back by Write stays held for the next
// Write. Safe for concurrent use.
func (w *Writer) WriteLines(lines []string) error {
	if err := w.lock(); err != nil {
		return err
	}
	defer w.mu.Unlock()
	for i, line := range lines {
		if err := w.pub.Send(w.ctx, line); err != nil {
			return fmt.Errorf("line %d: %w", i, err)
		}
	}
	return nil
}

// lock takes the Writer's lock; on the loop goroutine only when it is
// free at once (another goroutine may hold it while its Send waits,
// which would stall the loop), else it returns ErrBlockingCall.
func (w *Writer) lock() error {
	if w.pub.Context().Reactor().OnLoop() {
		if !w.mu.TryLock() {
			return fmt.Errorf("%w: the Writer is in use by a goroutine that waits to send", reactor.ErrBlockingCall)
		}
		return nil
	}
	w.mu.Lock()
	return nil
}

// Isatty reports what WithIsatty set (yoton's isatty()). Safe for
// concurrent use.
func (w *Writer) Isatty() bool { return w.isatty }

// Flush waits until everything written so far has been handed to the
// kernel on every connection (Context.Flush); an incomplete character
// held back by Write is not text yet and stays held. Safe for
// concurrent use; on the loop goroutine it returns reactor.ErrBlockingCall.
func (w *Writer) Flush(ctx context.Context) error { return w.pub.Context().Flush(ctx) }

// Close closes the underlying channel. When the last Write ended inside
// a character, those bytes are dropped and Close reports them with an
// error wrapping ErrEncode (after closing). On the loop goroutine, while
// another goroutine is writing, it returns reactor.ErrBlockingCall and
// closes nothing (see Writer). Idempotent; safe for
// concurrent use.
func (w *Writer) Close() error {
	if err := w.lock(); err != nil {
		return err
	}
	held := len(w.partial)
	w.partial = nil
	w.mu.Unlock()
	err := w.pub.Close()
	if held > 0 {
		err = errors.Join(err, fmt.Errorf("%w (txt): the text written ends inside a UTF-8 character (%d bytes dropped)", ErrEncode, held))
	}
	return err
}

// Reader is yoton's FileWrapper around a text SubChannel: an io.Reader
// over the stream of received messages, plus yoton's message and line
// reads: ReadNow (yoton's read()), ReadMessage (read(True)), ReadLine
// and ReadLineN (readline(size)). Read returns io.EOF once the channel
// is closed and drained. A message that is not valid UTF-8 is reported
// by the read that takes it, with an error wrapping ErrDecode (yoton's
// read and readline raise UnicodeDecodeError), and is gone; the next
// read goes on with the next message. Safe for concurrent use (reads are
// serialised).
//
// On the loop goroutine use ReadNow (a Received handler may). The
// waiting reads (Read, ReadContext, ReadMessage, ReadLine, ReadLineN)
// return reactor.ErrBlockingCall there when nothing is queued, and also when
// another goroutine is in one of them (it may be waiting for a message
// only the loop can deliver): they never hold the loop up.
type Reader struct {
	sub    *SubChannel[string]
	ctx    context.Context
	echo   *PubChannel[string]
	isatty bool

	mu   sync.Mutex
	rest string // unread part of the last message taken by Read
}

// WithEcho republishes every message read on echo (yoton's echo, used to
// show a kernel's stdin on its stdout). Safe for concurrent use.
func WithEcho(echo *PubChannel[string]) ReaderOption {
	return readerOptionFunc(func(r *Reader) error {
		if echo == nil {
			return fmt.Errorf("%w: WithEcho(nil)", reactor.ErrBadOption)
		}
		r.echo = echo
		return nil
	})
}

// WithReadContext sets the context that bounds Read (io.Reader has no
// ctx argument) and the echo of ReadNow; the default never ends. Safe
// for concurrent use.
func WithReadContext(ctx context.Context) ReaderOption {
	return readerOptionFunc(func(r *Reader) error {
		if ctx == nil {
			return fmt.Errorf("%w: WithReadContext(nil)", reactor.ErrBadOption)
		}
		r.ctx = ctx
		return nil
	})
}

// NewReader wraps a text subscriber as an io.Reader. It fails with an
// error wrapping reactor.ErrBadOption for an invalid option. Safe for
// concurrent use.
func NewReader(sub *SubChannel[string], opts ...ReaderOption) (*Reader, error) {
	r := &Reader{sub: sub, ctx: context.Background()}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", reactor.ErrBadOption)
		}
		if err := o.applyReader(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// recv takes the next message, echoing it; a closed, drained channel
// gives io.EOF. Under mu.
func (r *Reader) recv(ctx context.Context) (string, error) {
	m, err := r.sub.Recv(ctx)
	if errors.Is(err, errClosed) {
		return "", io.EOF
	}
	if err != nil {
		return "", err
	}
	return m, r.echoMessage(ctx, m)
}

// echoMessage republishes m on the echo channel, if any (yoton echoes
// what is not empty).
func (r *Reader) echoMessage(ctx context.Context, m string) error {
	if r.echo == nil || m == "" {
		return nil
	}
	return r.echo.Send(ctx, m)
}

// Read copies received text into p, waiting for a message when nothing
// is buffered. A message longer than p is returned over several Reads.
// Safe for concurrent use, but see Reader on the loop goroutine.
func (r *Reader) Read(p []byte) (int, error) { return r.ReadContext(r.ctx, p) }

// ReadContext is Read bounded by ctx. Safe for concurrent use, but see
// Reader on the loop goroutine.
func (r *Reader) ReadContext(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := r.lock(); err != nil {
		return 0, err
	}
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

// lock takes r.mu for a read that may wait. On the loop goroutine it
// does not wait for another reader (who may be waiting for a message only
// the loop can deliver): it returns reactor.ErrBlockingCall when r.mu is taken.
func (r *Reader) lock() error {
	if r.sub.Context().Reactor().OnLoop() {
		if !r.mu.TryLock() {
			return reactor.ErrBlockingCall
		}
		return nil
	}
	r.mu.Lock()
	return nil
}

// ReadNow is yoton's read(), which does not wait: it returns the next
// message whole (text left over from a partial Read first), or "" when
// none has arrived, as yoton's does. Unlike yoton's (which returns ""
// then too), it returns "" and io.EOF once the channel is closed and
// drained, so that a reading loop can end. It never waits for a message;
// while another read on this Reader is under way it returns "" at once
// rather than wait for it (that read takes what arrives). The echo (of
// what is not empty) may wait for room like PubChannel.Send, bounded by
// WithReadContext; on the loop goroutine it never waits, so ReadNow
// suits a Received handler. Safe for concurrent use.
func (r *Reader) ReadNow() (string, error) {
	if !r.mu.TryLock() {
		return "", nil
	}
	defer r.mu.Unlock()
	if r.rest != "" {
		m := r.rest
		r.rest = ""
		return m, nil
	}
	m, err := r.sub.TryRecv()
	switch {
	case errors.Is(err, ErrNoMessage):
		return "", nil
	case errors.Is(err, errClosed):
		return "", io.EOF
	case err != nil:
		return "", err
	}
	return m, r.echoMessage(r.ctx, m)
}

// ReadMessage returns the next message whole (text left over from a
// partial Read first), waiting for one until ctx ends: yoton's
// read(True), or read(timeout) with a ctx deadline. On a closed channel
// it returns the queued messages, then io.EOF (yoton's blocking read
// returns "" at once on a closed channel, queued messages or not). Safe
// for concurrent use, but see Reader on the loop goroutine.
func (r *Reader) ReadMessage(ctx context.Context) (string, error) {
	if err := r.lock(); err != nil {
		return "", err
	}
	defer r.mu.Unlock()
	if r.rest != "" {
		m := r.rest
		r.rest = ""
		return m, nil
	}
	return r.recv(ctx)
}

// ReadLine is yoton's readline(): ReadLineN(ctx, 0). Safe for concurrent
// use, but see Reader on the loop goroutine.
func (r *Reader) ReadLine(ctx context.Context) (string, error) { return r.ReadLineN(ctx, 0) }

// ReadLineN is yoton's readline(size): the next message (waiting for one
// as ReadMessage does), with "\n" appended when it does not end with
// one, then cut as Python's line[:size] cuts it, counting characters:
//
//   - size 0 keeps the whole line;
//   - size > 0 keeps its first size characters, and the rest of the
//     message is thrown away (not returned by the next read);
//   - size < 0 drops its last -size characters (so -1 drops the
//     newline), which is what Python's slice does, not io's "no limit".
//
// yoton sends one line per message, so a line is a message: it does not
// search the stream for newlines. On a closed channel it returns the
// queued messages, then io.EOF, where yoton's readline returns "\n"
// forever. Safe for concurrent use, but see Reader on the loop
// goroutine.
func (r *Reader) ReadLineN(ctx context.Context, size int) (string, error) {
	m, err := r.ReadMessage(ctx)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(m, "\n") {
		m += "\n"
	}
	return sliceChars(m, size), nil
}

// sliceChars returns Python's s[:n] for n != 0, counting characters
// (runes), and s for n == 0.
func sliceChars(s string, n int) string {
	if n < 0 {
		n += utf8.RuneCountInString(s)
		if n <= 0 {
			return ""
		}
	}
	if n == 0 {
		return s
	}
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// Isatty reports what WithIsatty set (yoton's isatty()). Safe for
// concurrent use.
func (r *Reader) Isatty() bool { return r.isatty }

// Close closes the underlying channel; reads return what is queued and
// then io.EOF. Idempotent; safe for concurrent use.
func (r *Reader) Close() error { return r.sub.Close() }
