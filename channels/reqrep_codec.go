package channels

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/goyoton/yoton/internal/objconv"
	"github.com/goyoton/yoton/wire"
)

// encodeRequest encodes (method, args, kwargs) as yoton's request object.
func encodeRequest(method string, args []any, kwargs Kwargs) ([]byte, error) {
	objArgs := make(wire.Tuple, len(args))
	for i, a := range args {
		v, err := objconv.ToObject(a)
		if err != nil {
			return nil, fmt.Errorf("%w: %s() argument %d: %w", ErrEncode, method, i+1, err)
		}
		objArgs[i] = v
	}
	kw := wire.NewDict()
	for _, k := range slices.Sorted(maps.Keys(kwargs)) {
		v, err := objconv.ToObject(kwargs[k])
		if err != nil {
			return nil, fmt.Errorf("%w: %s() argument %s: %w", ErrEncode, method, k, err)
		}
		if err := kw.Set(k, v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrEncode, err)
		}
	}
	b, err := wire.EncodeObject(wire.Tuple{method, objArgs, kw})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return b, nil
}

func errorReply(msg string) wire.Tuple { return wire.Tuple{ErrorObject, msg} }

// decodeRequest decodes yoton's (method, args, kwargs) request object.
func decodeRequest(b []byte) (name string, args []any, kwargs *wire.Dict, err error) {
	v, err := wire.DecodeObject(b)
	if err != nil {
		return "", nil, nil, fmt.Errorf("invalid request: %w", err)
	}
	t, ok := v.(wire.Tuple)
	if !ok {
		if l, isList := v.([]any); isList {
			t, ok = wire.Tuple(l), true
		}
	}
	if !ok || len(t) != 3 {
		return "", nil, nil, fmt.Errorf("invalid request: want (name, args, kwargs), got %s", objconv.ClipRepr(v))
	}
	name, ok = t[0].(string)
	if !ok {
		return "", nil, nil, fmt.Errorf("invalid request: method name %s is not a string", objconv.ClipRepr(t[0]))
	}
	switch a := t[1].(type) {
	case wire.Tuple:
		args = a
	case []any:
		args = a
	default:
		return "", nil, nil, fmt.Errorf("invalid request: arguments %s are not a tuple", objconv.ClipRepr(t[1]))
	}
	switch k := t[2].(type) {
	case *wire.Dict:
		kwargs = k
	case nil:
	default:
		return "", nil, nil, fmt.Errorf("invalid request: keyword arguments %s are not a dict", objconv.ClipRepr(t[2]))
	}
	return name, args, kwargs, nil
}

// echoArgs binds echo's arguments as Python would.
func echoArgs(args []any, kwargs *wire.Dict) (arg1 any, sleep time.Duration, err error) {
	if len(args) > 2 {
		return nil, 0, fmt.Errorf("echo() takes from 2 to 3 positional arguments but %d were given", len(args)+1)
	}
	var sleepV any = int64(0)
	have1 := len(args) > 0
	if have1 {
		arg1 = args[0]
	}
	if len(args) > 1 {
		sleepV = args[1]
	}
	for k, v := range kwargs.All() {
		switch k {
		case "arg1":
			if have1 {
				return nil, 0, errors.New("echo() got multiple values for argument 'arg1'")
			}
			arg1, have1 = v, true
		case "sleep":
			if len(args) > 1 {
				return nil, 0, errors.New("echo() got multiple values for argument 'sleep'")
			}
			sleepV = v
		default:
			return nil, 0, fmt.Errorf("echo() got an unexpected keyword argument %s", wire.Repr(k))
		}
	}
	if !have1 {
		return nil, 0, errors.New("echo() missing 1 required positional argument: 'arg1'")
	}
	var secs float64
	switch s := sleepV.(type) {
	case int64:
		secs = float64(s)
	case float64:
		secs = s
	case bool:
		if s {
			secs = 1
		}
	default:
		return nil, 0, fmt.Errorf("'%s' object cannot be interpreted as a number of seconds", objconv.PyTypeName(sleepV))
	}
	if secs < 0 || secs != secs {
		return nil, 0, errors.New("sleep length must be non-negative")
	}
	return arg1, time.Duration(min(secs, float64(time.Hour/time.Second)) * float64(time.Second)), nil
}
