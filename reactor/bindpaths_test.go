package reactor

import (
	"fmt"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/slots"
)

// TestBindMaxTries: with the port taken, Bind with maxTries 1 fails with
// ErrBind and with maxTries > 1 takes one of the next ports, as yoton's
// bind tries port, port+1, ...
func TestBindMaxTries(t *testing.T) {
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	x := newContext(t, newReactor(t))
	_, err = x.Bind(fmt.Sprintf("127.0.0.1:%d", port), 1, "")
	require.ErrorIs(t, err, ErrBind)
	c, err := x.Bind(fmt.Sprintf("127.0.0.1:%d", port), 20, "second try")
	require.NoError(t, err)
	_, got := c.LocalAddr()
	assert.Greater(t, got, port)
	assert.LessOrEqual(t, got, port+19)
	assert.Same(t, c, x.AllConnections().ByName("second try"))
}

// TestBindByPortName: a port given by name is Python's hash of the name
// (slots.PortHash), plus an offset after "+"; connecting by the same name
// reaches it.
func TestBindByPortName(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	name := "goyoton-bind-by-name-" + strconv.Itoa(int(nextRawID()%1000))
	c, err := x.Bind("localhost:"+name+"+3", 1, "")
	if err != nil {
		t.Skipf("the named port is taken on this machine: %v", err)
	}
	_, port := c.LocalAddr()
	assert.Equal(t, int(slots.PortHash(name))+3, port)
	_, err = newContext(t, r).Connect(testkit.Context(t), "localhost:"+name+"+3", "")
	require.NoError(t, err)
	waitEstablished(t, c)
}

// TestSetName: a connection's name can change; ByName finds it by the new
// one.
func TestSetName(t *testing.T) {
	x := newContext(t, newReactor(t))
	c, _ := bindLocal(t, x)
	assert.Equal(t, "", c.Name())
	c.SetName("renamed")
	assert.Equal(t, "renamed", c.Name())
	assert.Same(t, c, x.AllConnections().ByName("renamed"))
	assert.Nil(t, x.AllConnections().ByName(""))
}
