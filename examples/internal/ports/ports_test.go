package ports

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/slots"
)

func TestOffset(t *testing.T) {
	tests := []struct {
		name, in string
		k        int
		want     string
	}{
		{name: "free port stays free", in: "127.0.0.1:0", k: 2, want: "127.0.0.1:0"},
		{name: "number", in: "127.0.0.1:5000", k: 2, want: "127.0.0.1:5002"},
		{name: "name", in: "localhost:chat", k: 1, want: "localhost:chat+1"},
		{name: "name with offset", in: "localhost:chat+1", k: 2, want: "localhost:chat+3"},
		{name: "zero offset", in: "localhost:chat", k: 0, want: "localhost:chat+0"},
		{name: "protocol", in: "tcp://localhost:7000", k: 1, want: "tcp://localhost:7001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Offset(tt.in, tt.k)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	// A named port and its offsets are the ports Python computes.
	base, err := slots.ParseAddress("localhost:chat")
	require.NoError(t, err)
	off, err := Offset("localhost:chat", 3)
	require.NoError(t, err)
	a, err := slots.ParseAddress(off)
	require.NoError(t, err)
	require.Equal(t, base.Port+3, a.Port)
}

func TestOffsetErrors(t *testing.T) {
	for _, in := range []string{"nocolon", "127.0.0.1:99999"} {
		_, err := Offset(in, 1)
		require.ErrorIs(t, err, slots.ErrInvalidAddress, in)
	}
}

func TestFixed(t *testing.T) {
	require.NoError(t, Fixed("localhost:chat"))
	require.NoError(t, Fixed("127.0.0.1:5000"))
	require.ErrorIs(t, Fixed("127.0.0.1:0"), ErrFreePort)
	require.ErrorIs(t, Fixed("nocolon"), slots.ErrInvalidAddress)
}
