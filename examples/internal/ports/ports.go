// Package ports derives the addresses of a small yoton network from one
// base address, for the example programs.
//
// A yoton Bind serves exactly one connection, so a node that several
// others connect to binds several ports: base+0, base+1, and so on.
// Offset computes them the way yoton's port names do ("localhost:chat+2"
// is two ports after the port named "chat"), so separate processes agree
// on every port by agreeing on the base address alone.
package ports

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goyoton/yoton/slots"
)

// ErrFreePort is returned by Fixed for an address whose port is 0.
var ErrFreePort = errors.New("port 0 (a free port) cannot be shared between processes: give a port number or a port name such as localhost:yotonchat")

// Offset returns address with its port moved k ports on:
//
//	127.0.0.1:0        -> 127.0.0.1:0 (every bind picks a free port)
//	127.0.0.1:5000     -> 127.0.0.1:5000+k
//	localhost:chat     -> localhost:chat+k
//	localhost:chat+1   -> localhost:chat+(1+k)
//
// The host (and protocol) is kept as given. It fails for an address
// slots.ParseAddress rejects.
func Offset(address string, k int) (string, error) {
	if _, err := slots.ParseAddress(address); err != nil {
		return "", err
	}
	rest := address // after the protocol
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	cut := len(address) - len(rest) + strings.Index(rest, ":") + 1
	head, port := address[:cut], address[cut:]
	if n, err := strconv.Atoi(port); err == nil {
		if n == 0 {
			return head + "0", nil
		}
		return head + strconv.Itoa(n+k), nil
	}
	name, off := port, 0
	if j := strings.Index(port, "+"); j >= 0 {
		if n, err := strconv.Atoi(port[j+1:]); err == nil {
			name, off = port[:j], n
		}
	}
	out := fmt.Sprintf("%s%s+%d", head, name, off+k)
	if _, err := slots.ParseAddress(out); err != nil {
		return "", err
	}
	return out, nil
}

// Fixed checks that address names one port that other processes can
// find: it fails for a malformed address and for port 0.
func Fixed(address string) error {
	a, err := slots.ParseAddress(address)
	if err != nil {
		return err
	}
	if a.Port == 0 {
		return fmt.Errorf("address %q: %w", address, ErrFreePort)
	}
	return nil
}
