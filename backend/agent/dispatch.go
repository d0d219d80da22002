package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"sort"
)

// methods are the exported methods of the services the agent serves, by
// "Service.Method" (the names the window's bindings use: "BackupService.Start").
// A method takes JSON-decodable arguments and returns nothing, a value, an
// error, or a value and an error: the shape Wails binds.
type methods map[string]reflect.Value

var errorType = reflect.TypeOf((*error)(nil)).Elem()

// newMethods collects the methods of services (name → pointer to a struct).
func newMethods(services map[string]any) (methods, error) {
	ms := methods{}
	for name, svc := range services {
		v := reflect.ValueOf(svc)
		t := v.Type()
		for i := 0; i < t.NumMethod(); i++ {
			m := t.Method(i)
			ft := m.Type
			outs := ft.NumOut()
			if outs > 2 || (outs == 2 && ft.Out(1) != errorType) {
				return nil, fmt.Errorf("%s.%s: a served method returns at most a value and an error", name, m.Name)
			}
			ms[name+"."+m.Name] = v.Method(i)
		}
	}
	return ms, nil
}

// names lists the served methods, sorted (for errors and tests).
func (ms methods) names() []string {
	out := make([]string, 0, len(ms))
	for n := range ms {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// errUnknownMethod: no served method has that name.
var errUnknownMethod = errors.New("no such method")

// argError: the arguments do not fit the method.
type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }

// panicError: a served method panicked. The face is told the method failed;
// the agent's log gets the stack (serveCall), and the agent lives on.
type panicError struct {
	method string
	value  any
	stack  []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("PgSafe's agent failed in %s: %v", e.method, e.value)
}

// call decodes args into the method's parameters, calls it and returns its
// result (nil when it has none) and its error.
func (ms methods) call(name string, args []json.RawMessage) (result any, err error, callErr error) {
	m, ok := ms[name]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", errUnknownMethod, name)
	}
	ft := m.Type()
	if len(args) != ft.NumIn() {
		return nil, nil, &argError{fmt.Sprintf("%s takes %d arguments, got %d", name, ft.NumIn(), len(args))}
	}
	in := make([]reflect.Value, len(args))
	for i, raw := range args {
		p := reflect.New(ft.In(i))
		if err := json.Unmarshal(raw, p.Interface()); err != nil {
			return nil, nil, &argError{fmt.Sprintf("%s: argument %d: %v", name, i+1, err)}
		}
		in[i] = p.Elem()
	}
	defer func() {
		if r := recover(); r != nil {
			result, err = nil, &panicError{method: name, value: r, stack: debug.Stack()}
		}
	}()
	out := m.Call(in)
	switch len(out) {
	case 0:
		return nil, nil, nil
	case 1:
		if ft.Out(0) == errorType {
			return nil, asError(out[0]), nil
		}
		return out[0].Interface(), nil, nil
	default:
		return out[0].Interface(), asError(out[1]), nil
	}
}

func asError(v reflect.Value) error {
	if v.IsNil() {
		return nil
	}
	return v.Interface().(error)
}
