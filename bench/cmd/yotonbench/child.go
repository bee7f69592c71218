package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// A pair says how to start the two processes of one run.
type pair struct {
	sub func(count int64) *exec.Cmd
	pub func(addr string, size int, count int64) *exec.Cmd
}

// runOutcome is what one run of a pair measured.
type runOutcome struct {
	res     result
	pubCPU  time.Duration // user+sys of the publisher process
	subCPU  time.Duration // user+sys of the subscriber process
	elapsed time.Duration // wall time of the whole run, startup included
}

// runPair runs one subscriber and one publisher: the subscriber binds and
// prints READY <port>, the publisher connects, sends count messages of
// size bytes, flushes and prints SENT, and the subscriber prints its result
// line. Both then wait for their stdin to close: first the publisher's is
// closed, then, once it has exited, the subscriber's, so that neither
// sees its peer vanish while it is still working.
func runPair(ctx context.Context, p pair, size int, count int64) (runOutcome, error) {
	var out runOutcome
	start := time.Now()
	sub := p.sub(count)
	sub.Stderr = os.Stderr
	subOut, err := sub.StdoutPipe()
	if err != nil {
		return out, err
	}
	subIn, err := sub.StdinPipe()
	if err != nil {
		return out, err
	}
	if err := sub.Start(); err != nil {
		return out, err
	}
	subLines := lines(subOut)
	defer kill(sub)

	port, err := expect(ctx, subLines, readyWord, 30*time.Second)
	if err != nil {
		return out, fmt.Errorf("subscriber: %w", err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return out, fmt.Errorf("subscriber: bad port %q", port)
	}

	pub := p.pub("127.0.0.1:"+port, size, count)
	pub.Stderr = os.Stderr
	pubIn, err := pub.StdinPipe()
	if err != nil {
		return out, err
	}
	pubOut, err := pub.StdoutPipe()
	if err != nil {
		return out, err
	}
	if err := pub.Start(); err != nil {
		return out, err
	}
	defer kill(pub)
	pubLines := lines(pubOut)

	// The subscriber's next line is its result. The publisher prints SENT
	// and then waits for stdin, so its output ending first is a failure.
	var resLine string
	for resLine == "" {
		select {
		case l, ok := <-subLines:
			if !ok {
				return out, errors.New("subscriber exited without a result")
			}
			resLine = l
		case l, ok := <-pubLines:
			if !ok {
				return out, fmt.Errorf("publisher ended early: %v", pub.Wait())
			}
			_ = l // SENT: the subscriber will report soon
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
	if err := json.Unmarshal([]byte(resLine), &out.res); err != nil {
		return out, fmt.Errorf("subscriber result %q: %w", resLine, err)
	}
	if err := finish(pub, pubIn, pubLines, 30*time.Second); err != nil {
		return out, fmt.Errorf("publisher: %w", err)
	}
	if err := finish(sub, subIn, subLines, 30*time.Second); err != nil {
		return out, fmt.Errorf("subscriber: %w", err)
	}
	out.elapsed = time.Since(start)
	out.subCPU = sub.ProcessState.UserTime() + sub.ProcessState.SystemTime()
	out.pubCPU = pub.ProcessState.UserTime() + pub.ProcessState.SystemTime()
	return out, nil
}

// lines delivers r's lines on a channel, closed at EOF.
func lines(r io.Reader) <-chan string {
	ch := make(chan string, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- strings.TrimSpace(sc.Text())
		}
	}()
	return ch
}

// expect waits for a line "word rest" and returns rest.
func expect(ctx context.Context, ch <-chan string, word string, d time.Duration) (string, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				return "", fmt.Errorf("exited before %s", word)
			}
			if rest, found := strings.CutPrefix(l, word+" "); found {
				return rest, nil
			}
		case <-t.C:
			return "", fmt.Errorf("no %s within %v", word, d)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// finish closes cmd's stdin, reads the rest of its output and waits for
// it to exit, killing it after d.
func finish(cmd *exec.Cmd, stdin io.Closer, output <-chan string, d time.Duration) error {
	t := time.AfterFunc(d, func() { _ = cmd.Process.Kill() })
	defer t.Stop()
	_ = stdin.Close()
	for range output {
	}
	return cmd.Wait()
}

// kill ends a child that has not been waited for (on error paths).
func kill(cmd *exec.Cmd) {
	if cmd.ProcessState == nil && cmd.Process != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}
