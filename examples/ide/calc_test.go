package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/wire"
)

func TestCalc(t *testing.T) {
	tests := []struct {
		name, line, want, err string
	}{
		{name: "number", line: "42", want: "42"},
		{name: "precedence", line: "2 + 3 * 4", want: "14"},
		{name: "parentheses", line: "(2 + 3) * 4", want: "20"},
		{name: "unary minus", line: "-3 - -4", want: "1"},
		{name: "division and modulo", line: "17 / 5 * 5 + 17 % 5", want: "17"},
		{name: "let", line: "let x = 6 * 7", want: "x = 42"},
		{name: "variable", line: "x - 2", want: "40"},
		{name: "division by zero", line: "x / (x - 42)", err: "division by zero"},
		{name: "modulo by zero", line: "1 % 0", err: "division by zero"},
		{name: "unknown name", line: "y", err: `unknown name "y"`},
		{name: "missing parenthesis", line: "(1 + 2", err: "syntax: missing )"},
		{name: "trailing", line: "1 2", err: `syntax: unexpected "2"`},
		{name: "operator", line: "1 +", err: "syntax: unexpected end of line"},
		{name: "empty", line: "  ", err: "syntax: empty expression"},
		{name: "bad let", line: "let 1x = 2", err: "syntax: let NAME = EXPRESSION"},
		{name: "bad character", line: "1 $ 2", err: `syntax: unexpected "$"`},
		{name: "too big", line: "99999999999999999999", err: `syntax: bad number "99999999999999999999"`},
	}
	c := newCalc()
	for _, tt := range tests { // in order: "let" comes before its use
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.exec(tt.line)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	_, err := c.exec("let a = 1")
	require.NoError(t, err)
	require.Equal(t, "{'a': 1, 'x': 42}", wire.Repr(c.snapshot()))
}
