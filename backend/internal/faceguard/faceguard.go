// Package faceguard finds where a face (the window's services in backend/ui,
// the CLI in backend/cli) uses PgSafe's packages below the engine for more
// than their plain types. The faces are clients of the engine's API: they
// may name the types its methods take and return (store.Backup,
// pg.Candidate, audit.Report…), build and read those structs, and nothing
// else from below: a function, a method of a value that is not the engine's,
// a constant or a variable of a lower package is logic the face holds that
// the other face and the agent then lack.
//
// It reads the face's non-test files with go/parser, type-checks them with
// go/types against the export data `go list -export` gives for the imports,
// and reports each use by file and line.
package faceguard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Module is PgSafe's module path.
const Module = "github.com/pgsafe/pgsafe"

// Use is one use of a lower package's function, method, constant or
// variable in a face's file.
type Use struct {
	File string // base name, e.g. "kit.go"
	Line int
	Pkg  string // the lower package's import path
	// Name is how the allowlist names it: "keys.ReadKitFile" for a
	// package-level object, "keys.Passphrase.Wipe" for a method.
	Name string
	Kind string // "func", "method", "const", "var"
}

func (u Use) String() string {
	return fmt.Sprintf("%s:%d: %s %s", u.File, u.Line, u.Kind, u.Name)
}

// Options say which package to check and what counts as below the engine.
type Options struct {
	// Dir is the face's package directory (a test's own is ".").
	Dir string
	// Peers are the module's packages (import paths relative to Module,
	// e.g. "backend/engine") a face may call freely: the engine, and for
	// the CLI the agent's client. Every other package of the module is
	// below the engine.
	Peers []string
	// Tags are build tags for `go list` (the desktop's webkit2_41, say).
	Tags []string
}

// Check lists the face's uses of lower packages beyond their types.
func Check(o Options) ([]Use, error) {
	pkg, deps, err := list(o)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		files = append(files, f)
	}
	exports := map[string]string{}
	for _, d := range deps {
		exports[d.ImportPath] = d.Export
	}
	lookup := func(path string) (io.ReadCloser, error) {
		if p, ok := pkg.ImportMap[path]; ok {
			path = p
		}
		file := exports[path]
		if file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup)}
	if _, err := conf.Check(pkg.ImportPath, fset, files, info); err != nil {
		return nil, fmt.Errorf("type-check %s: %w", pkg.ImportPath, err)
	}

	peers := map[string]bool{pkg.ImportPath: true}
	for _, p := range o.Peers {
		peers[Module+"/"+p] = true
	}
	below := func(p *types.Package) bool {
		if p == nil || peers[p.Path()] {
			return false
		}
		return p.Path() == Module || strings.HasPrefix(p.Path(), Module+"/")
	}
	var out []Use
	for id, obj := range info.Uses {
		if !below(obj.Pkg()) {
			continue
		}
		u := Use{Pkg: obj.Pkg().Path()}
		switch obj := obj.(type) {
		case *types.TypeName:
			continue // a type: plain data the engine takes or returns
		case *types.Var:
			if obj.IsField() {
				continue // a field of such a type
			}
			u.Kind, u.Name = "var", obj.Pkg().Name()+"."+obj.Name()
		case *types.Const:
			u.Kind, u.Name = "const", obj.Pkg().Name()+"."+obj.Name()
		case *types.Func:
			u.Kind, u.Name = "func", obj.Pkg().Name()+"."+obj.Name()
			if recv := obj.Signature().Recv(); recv != nil {
				u.Kind, u.Name = "method", obj.Pkg().Name()+"."+recvName(recv.Type())+"."+obj.Name()
			}
		default:
			u.Kind, u.Name = "object", obj.Pkg().Name()+"."+obj.Name()
		}
		pos := fset.Position(id.Pos())
		u.File, u.Line = filepath.Base(pos.Filename), pos.Line
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// recvName is a method receiver's type name without its package or pointer.
func recvName(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		return t.Obj().Name()
	case *types.Interface:
		return "interface"
	}
	return t.String()
}

// listed is the part of `go list -json` Check reads.
type listed struct {
	Dir        string
	ImportPath string
	GoFiles    []string
	ImportMap  map[string]string
	Export     string
	Error      *struct{ Err string }
}

// list runs `go list -export -deps -json` on the face: the face's package
// comes last, after every package it imports, each with its export data.
func list(o Options) (listed, []listed, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return listed{}, nil, errors.New("the go command is not on PATH: install Go (https://go.dev/dl/) to run this check")
	}
	args := []string{"list", "-export", "-deps", "-json=Dir,ImportPath,GoFiles,ImportMap,Export,Error"}
	if len(o.Tags) > 0 {
		args = append(args, "-tags", strings.Join(o.Tags, ","))
	}
	cmd := exec.Command(goBin, append(args, ".")...)
	cmd.Dir = o.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return listed{}, nil, fmt.Errorf("go list in %s: %w: %s", o.Dir, err, strings.TrimSpace(stderr.String()))
	}
	var all []listed
	dec := json.NewDecoder(bytes.NewReader(stdout))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			return listed{}, nil, fmt.Errorf("read go list's output: %w", err)
		}
		if p.Error != nil {
			return listed{}, nil, fmt.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		all = append(all, p)
	}
	if len(all) == 0 {
		return listed{}, nil, fmt.Errorf("go list in %s listed nothing", o.Dir)
	}
	return all[len(all)-1], all[:len(all)-1], nil
}
