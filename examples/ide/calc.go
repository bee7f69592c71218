package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/goyoton/yoton/wire"
)

// calc is the kernel's language: integer arithmetic with variables.
//
//	let x = 6          assigns, and prints "x = 6"
//	(x + 1) * -3 % 5   prints the value; + - * / % and parentheses
//
// It is not safe for concurrent use: the kernel guards it with a mutex.
type calc struct {
	vars map[string]int64
}

func newCalc() *calc { return &calc{vars: map[string]int64{}} }

// exec runs one line and returns what to print.
func (c *calc) exec(line string) (string, error) {
	line = strings.TrimSpace(line)
	if rest, ok := strings.CutPrefix(line, "let "); ok {
		name, expr, ok := strings.Cut(rest, "=")
		name = strings.TrimSpace(name)
		if !ok || !isName(name) {
			return "", errors.New("syntax: let NAME = EXPRESSION")
		}
		v, err := c.eval(expr)
		if err != nil {
			return "", err
		}
		c.vars[name] = v
		return fmt.Sprintf("%s = %d", name, v), nil
	}
	v, err := c.eval(line)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(v, 10), nil
}

// snapshot returns the variables as a dict sorted by name, so that a
// requester sees them in a stable order.
func (c *calc) snapshot() *wire.Dict {
	d := wire.NewDict()
	for _, k := range slices.Sorted(maps.Keys(c.vars)) {
		_ = d.Set(k, c.vars[k]) // string keys and int64 values always encode
	}
	return d
}

// eval evaluates an expression.
func (c *calc) eval(expr string) (int64, error) {
	p := &parser{toks: tokenize(expr), vars: c.vars}
	if len(p.toks) == 0 {
		return 0, errors.New("syntax: empty expression")
	}
	v, err := p.expr()
	if err != nil {
		return 0, err
	}
	if p.i < len(p.toks) {
		return 0, fmt.Errorf("syntax: unexpected %q", p.toks[p.i])
	}
	return v, nil
}

// tokenize splits an expression into numbers, names and single-byte
// operators (names and numbers are ASCII).
func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		switch {
		case s[i] == ' ' || s[i] == '\t':
			i++
		case isWordByte(s[i]):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			toks = append(toks, s[i:i+1])
			i++
		}
	}
	return toks
}

func isWordByte(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// isName reports whether s is a variable name: a word not starting with
// a digit.
func isName(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := range len(s) {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

// parser is a recursive-descent parser that evaluates as it goes:
//
//	expr  = term { ("+" | "-") term }
//	term  = unary { ("*" | "/" | "%") unary }
//	unary = "-" unary | atom
//	atom  = number | name | "(" expr ")"
type parser struct {
	toks []string
	i    int
	vars map[string]int64
}

func (p *parser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *parser) expr() (int64, error) {
	v, err := p.term()
	for err == nil && (p.peek() == "+" || p.peek() == "-") {
		op := p.toks[p.i]
		p.i++
		var w int64
		if w, err = p.term(); err == nil {
			if op == "+" {
				v += w
			} else {
				v -= w
			}
		}
	}
	return v, err
}

func (p *parser) term() (int64, error) {
	v, err := p.unary()
	for err == nil && (p.peek() == "*" || p.peek() == "/" || p.peek() == "%") {
		op := p.toks[p.i]
		p.i++
		var w int64
		if w, err = p.unary(); err != nil {
			break
		}
		switch {
		case op == "*":
			v *= w
		case w == 0:
			err = errors.New("division by zero")
		case op == "/":
			v /= w
		default:
			v %= w
		}
	}
	return v, err
}

func (p *parser) unary() (int64, error) {
	if p.peek() == "-" {
		p.i++
		v, err := p.unary()
		return -v, err
	}
	return p.atom()
}

func (p *parser) atom() (int64, error) {
	t := p.peek()
	p.i++
	switch {
	case t == "":
		return 0, errors.New("syntax: unexpected end of line")
	case t == "(":
		v, err := p.expr()
		if err != nil {
			return 0, err
		}
		if p.peek() != ")" {
			return 0, errors.New("syntax: missing )")
		}
		p.i++
		return v, nil
	case isDigit(t[0]):
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("syntax: bad number %q", t)
		}
		return v, nil
	case isName(t):
		v, ok := p.vars[t]
		if !ok {
			return 0, fmt.Errorf("unknown name %q", t)
		}
		return v, nil
	}
	return 0, fmt.Errorf("syntax: unexpected %q", t)
}
