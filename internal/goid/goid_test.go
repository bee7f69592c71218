package goid

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCurrentDistinguishesGoroutines(t *testing.T) {
	here := Current()
	if here == 0 {
		t.Fatal("Current returned 0 on the test goroutine")
	}
	if again := Current(); again != here {
		t.Fatalf("Current changed on one goroutine: %d then %d", here, again)
	}
	other := make(chan ID)
	go func() { other <- Current() }()
	if id := <-other; id == 0 || id == here {
		t.Fatalf("another goroutine got id %d (test goroutine %d)", id, here)
	}
}

func BenchmarkCurrent(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Current()
	}
}

// TestStackFormAgrees: the portable form also tells goroutines apart
// (it is what other architectures use).
func TestStackFormAgrees(t *testing.T) {
	here := fromStack()
	if here == 0 || fromStack() != here {
		t.Fatalf("fromStack is not stable on one goroutine: %d", here)
	}
	other := make(chan ID)
	go func() { other <- fromStack() }()
	if id := <-other; id == 0 || id == here {
		t.Fatalf("another goroutine got id %d (test goroutine %d)", id, here)
	}
}

func BenchmarkFromStack(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		fromStack()
	}
}
