package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// syncBuffer is a bytes.Buffer safe for the server and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestService drives the service over HTTP: a publish, calls to the
// replier (several at once), bad input, then a graceful shutdown.
func TestService(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan string, 1)
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, &out, config{httpAddr: "127.0.0.1:0", yotonAddr: "127.0.0.1:0", callLimit: 5 * time.Second,
			ready: func(a string) { addrs <- a }})
	}()
	var base string
	select {
	case a := <-addrs:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	}
	client := &http.Client{Timeout: 10 * time.Second}

	resp, err := client.Post(base+"/events?msg=hello", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(base + "/add?a=" + strings.Repeat("1", i+1) + "&b=2")
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			var got map[string]int64
			assert.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			var a int64
			for range i + 1 {
				a = a*10 + 1
			}
			assert.Equal(t, a+2, got["sum"])
		}()
	}
	wg.Wait()

	resp, err = client.Get(base + "/add?a=x&b=2")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "shut down gracefully")
}
