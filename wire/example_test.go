package wire_test

import (
	"errors"
	"fmt"

	"github.com/goyoton/yoton/wire"
)

func ExampleEncodeObject() {
	// A request as a Python Req channel sends it: (method, args, kwargs).
	kwargs := wire.NewDict()
	if err := kwargs.Set("sleep", 0.5); err != nil {
		fmt.Println(err)
		return
	}
	b, err := wire.EncodeObject(wire.Tuple{"echo", wire.Tuple{"hi"}, kwargs})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%x\n", b)

	v, err := wire.DecodeObject(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(wire.Repr(v))
	// Output:
	// 740373046563686f74017302686964017305736c65657066000000000000e03f
	// ('echo', ('hi',), {'sleep': 0.5})
}

func ExampleDict() {
	d := wire.NewDict()
	for _, kv := range []struct {
		k, v any
	}{{"b", 1}, {"a", 2}, {wire.Tuple{1, "x"}, nil}, {"b", 3}, {true, "one"}, {1.0, "uno"}} {
		if err := d.Set(kv.k, kv.v); err != nil {
			fmt.Println(err)
			return
		}
	}
	// "b" keeps its first position; 1.0 is the same key as true, as in Python.
	fmt.Println(d, d.Len())
	for k, v := range d.All() {
		fmt.Printf("%s -> %s\n", wire.Repr(k), wire.Repr(v))
	}
	if err := d.Set([]any{1}, "x"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {'b': 3, 'a': 2, (1, 'x'): None, True: 'uno'} 4
	// 'b' -> 3
	// 'a' -> 2
	// (1, 'x') -> None
	// True -> 'uno'
	// yoton: unhashable dict key: list
}

func ExampleParseHandshakeLine() {
	line := wire.HandshakeLine(0x19a0000000000001, 4242)
	fmt.Printf("%q\n", line)
	id, pid, err := wire.ParseHandshakeLine(line)
	fmt.Printf("%#x %d %v\n", id, pid, err)
	_, _, err = wire.ParseHandshakeLine([]byte("GET / HTTP/1.1\r\n"))
	fmt.Println(err)
	// Output:
	// "YOTON!19a0000000000001.4242\r\n"
	// 0x19a0000000000001 4242 <nil>
	// yoton: peer is not a yoton context
}

func ExampleDecodeHeader() {
	b := wire.AppendHeader(nil, wire.Header{Slot: 1, SourceSeq: 1})
	h, err := wire.DecodeHeader(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q %+v\n", b[:8], h)
	// Output:
	// "YOTON   " {Slot:1 SourceID:0 SourceSeq:1 DestID:0 DestSeq:0 Length:0}
}

// DictOf builds a dict in one expression, as a Python dict literal does;
// MustDictOf panics instead of returning an error, for literals in code.
func ExampleDictOf() {
	kwargs, err := wire.DictOf("sleep", 0.5, "tag", "x", "sleep", 1.5)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(kwargs)

	request := wire.Tuple{"echo", wire.Tuple{"hi"}, wire.MustDictOf("sleep", 0.5)}
	fmt.Println(wire.Repr(request))

	_, err = wire.DictOf("a", 1, "b")
	fmt.Println(errors.Is(err, wire.ErrOddPairs))
	_, err = wire.DictOf("a", 1, []any{2}, 3)
	fmt.Println(err)
	// Output:
	// {'sleep': 1.5, 'tag': 'x'}
	// ('echo', ('hi',), {'sleep': 0.5})
	// true
	// pair 1: yoton: unhashable dict key: list
}

// The two connection-level signals: header-only packages that are never
// delivered.
func ExampleHeartbeatHeader() {
	hb := wire.AppendHeader(nil, wire.HeartbeatHeader())
	fmt.Printf("%x\n", hb[8:32])
	h, err := wire.DecodeHeader(wire.AppendHeader(nil, wire.CloseHeader()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.IsSignal(), h.IsHeartbeat(), h.IsClose())
	// Output:
	// 010000000000000000000000000000000000000000000000
	// true false true
}
