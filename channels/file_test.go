package channels_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

func TestFileWrapperStream(t *testing.T) {
	r := reactorkit.NewReactor(t)
	kernel, client := reactorkit.Pair(t, r)
	w := newWriter(t, mustPub(t, kernel, "stdout"), channels.WithChunkSize(7))
	rd := newReader(t, mustSub(t, client, "stdout"), channels.WithReadContext(testkit.Context(t)))

	// A long write is split into chunks at character boundaries; the
	// reader gives the same bytes back as a stream.
	text := "héllo wörld ✓ 日本語 and a line\nsecond line\n"
	n, err := io.WriteString(w, text)
	require.NoError(t, err)
	require.Equal(t, len(text), n)
	got := make([]byte, len(text))
	_, err = io.ReadFull(rd, got)
	require.NoError(t, err)
	require.Equal(t, text, string(got))
	require.True(t, utf8.Valid(got))
}

func TestFileWrapperChunksAreValidUTF8(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	w := newWriter(t, mustPub(t, a, "out"), channels.WithChunkSize(2))
	sub := mustSub(t, b, "out")
	_, err := w.Write([]byte("a日b"))
	require.NoError(t, err)
	// "日" is 3 bytes, more than the chunk size: it travels whole.
	for _, want := range []string{"a", "日", "b"} {
		require.Equal(t, want, recvOne(t, sub))
	}
}

func TestFileWrapperLinesEchoAndEOF(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	stdin := mustPub(t, a, "stdin")
	echoBack := mustSub(t, a, "echo")
	rd := newReader(t, mustSub(t, b, "stdin"), channels.WithEcho(mustPub(t, b, "echo")))
	ctx := testkit.Context(t)
	require.NoError(t, stdin.Send(ctx, "print(1)"))
	require.NoError(t, stdin.Send(ctx, "x = 2\n"))
	line, err := rd.ReadLine(ctx)
	require.NoError(t, err)
	require.Equal(t, "print(1)\n", line)
	line, err = rd.ReadLine(ctx)
	require.NoError(t, err)
	require.Equal(t, "x = 2\n", line)
	// Every message read was echoed.
	require.Equal(t, "print(1)", recvOne(t, echoBack))
	require.Equal(t, "x = 2\n", recvOne(t, echoBack))

	// Queued text stays readable after Close, then io.EOF.
	require.NoError(t, stdin.Send(ctx, "last"))
	sc := bufio.NewScanner(io.LimitReader(rd, 4))
	require.True(t, sc.Scan())
	require.Equal(t, "last", sc.Text())
	require.NoError(t, rd.Close())
	_, err = rd.ReadMessage(ctx)
	require.ErrorIs(t, err, io.EOF)
}

func TestFileWriterAfterClose(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, _ := reactorkit.Pair(t, r)
	w := newWriter(t, mustPub(t, a, "out"))
	require.NoError(t, w.Close())
	_, err := w.Write([]byte("x"))
	require.ErrorIs(t, err, reactor.ErrClosed)
	require.NoError(t, w.Close())
}

func TestFileReaderHonoursContext(t *testing.T) {
	r := reactorkit.NewReactor(t)
	_, b := reactorkit.Pair(t, r)
	rd := newReader(t, mustSub(t, b, "quiet"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := rd.ReadContext(ctx, make([]byte, 8))
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	require.False(t, strings.Contains(err.Error(), "EOF"))
}

// rawText is a message type named "txt" that passes bytes through
// unchecked, so tests can send what Text refuses: invalid UTF-8.
var rawText = channels.NewMessageType("txt",
	func(b []byte) ([]byte, error) { return b, nil },
	func(b []byte) ([]byte, error) { return b, nil })

func TestFileReaderReadNow(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	pub := mustPub(t, a, "in")
	echoBack := mustSub(t, a, "echo")
	rd := newReader(t, mustSub(t, b, "in"), channels.WithEcho(mustPub(t, b, "echo")))
	mark := newMarker(t, a, b)
	ctx := testkit.Context(t)

	// Nothing there: "" at once, as yoton's read().
	m, err := rd.ReadNow()
	require.NoError(t, err)
	require.Equal(t, "", m)

	// One message whole per call, oldest first.
	require.NoError(t, pub.Send(ctx, "one"))
	require.NoError(t, pub.Send(ctx, "two\n"))
	mark.sync(t)
	for _, want := range []string{"one", "two\n", ""} {
		m, err := rd.ReadNow()
		require.NoError(t, err)
		require.Equal(t, want, m)
	}
	require.Equal(t, "one", recvOne(t, echoBack))
	require.Equal(t, "two\n", recvOne(t, echoBack))

	// What a partial Read left comes first.
	require.NoError(t, pub.Send(ctx, "abcdef"))
	buf := make([]byte, 2)
	_, err = io.ReadFull(rd, buf)
	require.NoError(t, err)
	m, err = rd.ReadNow()
	require.NoError(t, err)
	require.Equal(t, "cdef", m)
	require.Equal(t, "abcdef", recvOne(t, echoBack), "echoed once, when taken from the channel")

	// Closed and drained: "" and io.EOF.
	require.NoError(t, pub.Send(ctx, "last"))
	mark.sync(t)
	require.NoError(t, rd.Close())
	m, err = rd.ReadNow()
	require.NoError(t, err)
	require.Equal(t, "last", m)
	m, err = rd.ReadNow()
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, "", m)
}

// TestFileReaderReadLineN checks readline(size) as yoton's: the message
// with "\n" appended when missing, then Python's line[:size] counted in
// characters; the rest of a cut message is gone.
func TestFileReaderReadLineN(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	pub := mustPub(t, a, "in")
	rd := newReader(t, mustSub(t, b, "in"))
	mark := newMarker(t, a, b)
	ctx := testkit.Context(t)
	tests := []struct {
		name    string
		message string
		size    int
		want    string
	}{
		{name: "no limit adds newline", message: "abc", size: 0, want: "abc\n"},
		{name: "no limit keeps newline", message: "abc\n", size: 0, want: "abc\n"},
		{name: "cut", message: "abcdef", size: 3, want: "abc"},
		{name: "cut in characters", message: "wörld日本", size: 6, want: "wörld日"},
		{name: "size past the end", message: "ab", size: 10, want: "ab\n"},
		{name: "size reaches the added newline", message: "ab", size: 3, want: "ab\n"},
		{name: "minus one drops the newline", message: "line", size: -1, want: "line"},
		{name: "negative counts characters", message: "日本語", size: -2, want: "日本"},
		{name: "negative past the start", message: "ab", size: -10, want: ""},
		{name: "negative to empty", message: "x\n", size: -2, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, pub.Send(ctx, tt.message))
			require.NoError(t, pub.Send(ctx, "next"))
			mark.sync(t)
			got, err := rd.ReadLineN(ctx, tt.size)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			// What the size cut off is thrown away: the next read is
			// the next message.
			got, err = rd.ReadNow()
			require.NoError(t, err)
			require.Equal(t, "next", got)
		})
	}

	require.NoError(t, rd.Close())
	_, err := rd.ReadLineN(ctx, 2)
	require.ErrorIs(t, err, io.EOF)
}

func TestFileIsatty(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	require.False(t, newWriter(t, mustPub(t, a, "w0")).Isatty(), "yoton's default")
	require.False(t, newReader(t, mustSub(t, b, "r0")).Isatty(), "yoton's default")
	require.True(t, newWriter(t, mustPub(t, a, "w1"), channels.WithIsatty(true)).Isatty())
	require.True(t, newReader(t, mustSub(t, b, "r1"), channels.WithIsatty(true)).Isatty())
}

// TestFileWriterWriteLines: one message per line, as it is: no newline
// added, no chunking, empty lines not sent; a line that cannot be sent
// stops it, after the lines before it went out.
func TestFileWriterWriteLines(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	w := newWriter(t, mustPub(t, a, "out"), channels.WithChunkSize(2))
	sub := mustSub(t, b, "out")
	require.NoError(t, w.WriteLines([]string{"a", "", "b\n", "longer than the chunk size"}))
	require.NoError(t, w.WriteLines(nil))
	err := w.WriteLines([]string{"c", "bad \xff", "never"})
	require.ErrorIs(t, err, channels.ErrEncode)
	require.NoError(t, w.WriteLines([]string{"end"}))
	for _, want := range []string{"a", "b\n", "longer than the chunk size", "c", "end"} {
		require.Equal(t, want, recvOne(t, sub))
	}
}

// TestFileWriterCompletesSplitCharacters: a character cut between two
// Writes (as bufio.Writer or io.Copy may cut it) travels whole, so
// every message is valid text for a Python or Go reader.
func TestFileWriterCompletesSplitCharacters(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	w := newWriter(t, mustPub(t, a, "out"))
	sub := mustSub(t, b, "out")
	mark := newMarker(t, a, b)

	n, err := w.Write([]byte("a\xe6\x97"))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = w.Write([]byte("\xa5b"))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, "a", recvOne(t, sub))
	require.Equal(t, "日b", recvOne(t, sub))

	// A byte at a time: every message is one whole character.
	text := "é✓🎉x"
	_, err = io.Copy(w, iotest.OneByteReader(strings.NewReader(text)))
	require.NoError(t, err)
	for _, want := range []string{"é", "✓", "🎉", "x"} {
		require.Equal(t, want, recvOne(t, sub))
	}

	// Bytes that are not UTF-8 are refused before anything is sent.
	for _, bad := range []string{"ok\xff", "\xc0\x80", "a\xed\xa0\x80b", "\xe6x"} {
		n, err = w.Write([]byte(bad))
		require.ErrorIs(t, err, channels.ErrEncode, "%q", bad)
		require.Zero(t, n)
	}
	// So is a held character that the next Write does not continue; it
	// is dropped with it.
	_, err = w.Write([]byte("\xe6"))
	require.NoError(t, err)
	_, err = w.Write([]byte("x"))
	require.ErrorIs(t, err, channels.ErrEncode)
	_, err = w.Write([]byte("fine"))
	require.NoError(t, err)
	mark.sync(t)
	require.Equal(t, "fine", recvOne(t, sub))
	all, err := sub.RecvAll()
	require.NoError(t, err)
	require.Empty(t, all)

	// Close reports a character left incomplete.
	_, err = w.Write([]byte("\xf0\x9f"))
	require.NoError(t, err)
	require.ErrorIs(t, w.Close(), channels.ErrEncode)
	require.NoError(t, w.Close())
}

// TestFileReaderInvalidText: a message that is not UTF-8 is reported by
// the read that takes it (yoton's read and readline raise
// UnicodeDecodeError) and is gone; reading goes on.
func TestFileReaderInvalidText(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	raw, err := channels.NewPubChannel(a, "in", rawText)
	require.NoError(t, err)
	rd := newReader(t, mustSub(t, b, "in"))
	mark := newMarker(t, a, b)
	ctx := testkit.Context(t)
	for _, m := range []string{"\xff1", "ok", "\xff2", "\xff3", "line"} {
		require.NoError(t, raw.Send(ctx, []byte(m)))
	}
	mark.sync(t)

	_, err = rd.ReadNow()
	require.ErrorIs(t, err, channels.ErrDecode)
	m, err := rd.ReadNow()
	require.NoError(t, err)
	require.Equal(t, "ok", m)
	_, err = rd.ReadLine(ctx)
	require.ErrorIs(t, err, channels.ErrDecode)
	_, err = rd.Read(make([]byte, 8))
	require.ErrorIs(t, err, channels.ErrDecode)
	line, err := rd.ReadLine(ctx)
	require.NoError(t, err)
	require.Equal(t, "line\n", line)
}

// TestReaderOnLoopNeverWaits: while another goroutine waits in a read, a
// read on the loop goroutine returns ErrBlockingCall at once instead of
// waiting for the Reader's lock (which would stop the loop, and with it
// the message the other read waits for).
func TestReaderOnLoopNeverWaits(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	pub, err := channels.NewPubChannel(a, "loopread", channels.Text)
	require.NoError(t, err)
	sub, err := channels.NewSubChannel(b, "loopread", channels.Text)
	require.NoError(t, err)
	rd := newReader(t, sub)
	got := make(chan string, 1)
	go func() {
		m, err := rd.ReadMessage(testkit.Context(t))
		if err == nil {
			got <- m
		}
	}()
	// Read from the loop, again and again, while the other read holds the
	// Reader's lock (it takes it at once and waits): each returns at once.
	// A read that waited for the lock would stop the loop, and this Do
	// would time out.
	for range 200 {
		var loopErr error
		ctx, cancel := context.WithTimeout(testkit.Context(t), 2*time.Second)
		require.NoError(t, r.Do(ctx, func() { _, loopErr = rd.ReadMessage(ctx) }), "the loop was held up")
		cancel()
		require.ErrorIs(t, loopErr, reactor.ErrBlockingCall)
	}
	require.NoError(t, pub.Send(testkit.Context(t), "through"))
	assert.Equal(t, "through", testkit.Wait(t, got, "the waiting read to get its message"))
}

// newWriter is channels.NewWriter, failing the test on an error.
func newWriter(t testing.TB, pub *channels.PubChannel[string], opts ...channels.WriterOption) *channels.Writer {
	t.Helper()
	w, err := channels.NewWriter(pub, opts...)
	require.NoError(t, err)
	return w
}

// newReader is channels.NewReader, failing the test on an error.
func newReader(t testing.TB, sub *channels.SubChannel[string], opts ...channels.ReaderOption) *channels.Reader {
	t.Helper()
	rd, err := channels.NewReader(sub, opts...)
	require.NoError(t, err)
	return rd
}

// TestFileOptionsRejectBadValues: invalid options are errors, never
// clamped.
func TestFileOptionsRejectBadValues(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, _ := reactorkit.Pair(t, r)
	pub, sub := mustPub(t, a, "bad-out"), mustSub(t, a, "bad-in")
	for _, opt := range []channels.WriterOption{channels.WithChunkSize(-1), channels.WithWriteContext(nil)} {
		_, err := channels.NewWriter(pub, opt)
		require.ErrorIs(t, err, reactor.ErrBadOption)
	}
	for _, opt := range []channels.ReaderOption{channels.WithEcho(nil), channels.WithReadContext(nil)} {
		_, err := channels.NewReader(sub, opt)
		require.ErrorIs(t, err, reactor.ErrBadOption)
	}
}

// TestWriterWriteContext: WriteContext sends as Write does, its waits
// bounded by the ctx given to it rather than the Writer's.
func TestWriterWriteContext(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	sub := mustSub(t, b, "wctx")
	w := newWriter(t, mustPub(t, a, "wctx"), channels.WithChunkSize(2))
	n, err := w.WriteContext(testkit.Context(t), []byte("abc"))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, "ab", recvOne(t, sub))
	assert.Equal(t, "c", recvOne(t, sub))
}
