package channels_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
)

func TestFileWrapperStream(t *testing.T) {
	r := newReactor(t)
	kernel, client := pair(t, r)
	w := channels.NewWriter(mustPub(t, kernel, "stdout"), channels.WithChunkSize(7))
	rd := channels.NewReader(mustSub(t, client, "stdout"), channels.WithReadContext(testCtx(t)))

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
	r := newReactor(t)
	a, b := pair(t, r)
	w := channels.NewWriter(mustPub(t, a, "out"), channels.WithChunkSize(2))
	sub := mustSub(t, b, "out")
	_, err := w.Write([]byte("a日b"))
	require.NoError(t, err)
	// "日" is 3 bytes, more than the chunk size: it travels whole.
	for _, want := range []string{"a", "日", "b"} {
		require.Equal(t, want, recvOne(t, sub))
	}
}

func TestFileWrapperLinesEchoAndEOF(t *testing.T) {
	r := newReactor(t)
	a, b := pair(t, r)
	stdin := mustPub(t, a, "stdin")
	echoBack := mustSub(t, a, "echo")
	rd := channels.NewReader(mustSub(t, b, "stdin"), channels.WithEcho(mustPub(t, b, "echo")))
	ctx := testCtx(t)
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
	r := newReactor(t)
	a, _ := pair(t, r)
	w := channels.NewWriter(mustPub(t, a, "out"))
	require.NoError(t, w.Close())
	_, err := w.Write([]byte("x"))
	require.ErrorIs(t, err, channels.ErrClosed)
	require.NoError(t, w.Close())
}

func TestFileReaderHonoursContext(t *testing.T) {
	r := newReactor(t)
	_, b := pair(t, r)
	rd := channels.NewReader(mustSub(t, b, "quiet"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := rd.ReadContext(ctx, make([]byte, 8))
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	require.False(t, strings.Contains(err.Error(), "EOF"))
}
