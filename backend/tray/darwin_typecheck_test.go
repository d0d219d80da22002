package tray

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The macOS menu bar icon (start_darwin.go, and systray.go's menu code as
// macOS builds it) is cgo, which cannot be compiled here: there is no macOS
// SDK. This type-checks this package as GOOS=darwin with cgo builds it,
// against fyne.io/systray's darwin sources, with cgo's C names taken on
// trust (go/types' FakeImportC): a misnamed Go function, a wrong argument
// or a file left out by its build constraint fails here rather than in the
// release workflow, the one place that compiles it (docs/PACKAGING.md).
func TestDarwinCgoBuildTypeChecks(t *testing.T) {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = "darwin", "arm64", true
	fset := token.NewFileSet()

	systrayDir := goList(t, nil, "-f", "{{.Dir}}", "fyne.io/systray")
	systrayFiles := parseDir(t, fset, &ctx, systrayDir)
	ownFiles := parseDir(t, fset, &ctx, ".")
	if !hasFile(fset, ownFiles, "start_darwin.go") || !hasFile(fset, ownFiles, "systray.go") || hasFile(fset, ownFiles, "tray_other.go") {
		t.Fatalf("darwin+cgo picks the wrong files: %v", names(fset, ownFiles))
	}

	// Everything else these import, as export data built for darwin (no
	// cgo: the packages' Go API is the same).
	exports := map[string]string{}
	imports := importsOf(append(append([]*ast.File{}, systrayFiles...), ownFiles...))
	args := append([]string{"-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}"}, imports...)
	for _, line := range strings.Split(goList(t, []string{"GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0"}, args...), "\n") {
		if path, file, ok := strings.Cut(line, "="); ok && file != "" {
			exports[path] = file
		}
	}
	gc := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no darwin export data for %s", path)
		}
		return os.Open(f)
	})
	conf := types.Config{FakeImportC: true, Importer: gc, Sizes: types.SizesFor("gc", "arm64")}
	systray, err := conf.Check("fyne.io/systray", fset, systrayFiles, nil)
	if err != nil {
		t.Fatalf("fyne.io/systray for darwin: %v", err)
	}
	conf.Importer = importerFunc(func(path string) (*types.Package, error) {
		if path == "fyne.io/systray" {
			return systray, nil
		}
		return gc.Import(path)
	})
	var errs []string
	conf.Error = func(err error) { errs = append(errs, err.Error()) }
	conf.Check("github.com/pgsafe/pgsafe/backend/tray", fset, ownFiles, nil)
	if len(errs) > 0 {
		t.Errorf("package tray as macOS builds it (with cgo):\n%s", strings.Join(errs, "\n"))
	}
}

type importerFunc func(string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

func goList(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// parseDir parses the non-test Go files of dir that ctx builds.
func parseDir(t *testing.T, fset *token.FileSet, ctx *build.Context, dir string) []*ast.File {
	t.Helper()
	pkg, err := ctx.ImportDir(dir, 0)
	if err != nil {
		t.Fatalf("%s for darwin: %v", dir, err)
	}
	var files []*ast.File
	for _, name := range append(append([]string{}, pkg.GoFiles...), pkg.CgoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

func importsOf(files []*ast.File) []string {
	seen := map[string]bool{}
	for _, f := range files {
		for _, s := range f.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			if p != "C" && p != "fyne.io/systray" {
				seen[p] = true
			}
		}
	}
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func names(fset *token.FileSet, files []*ast.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, filepath.Base(fset.Position(f.Package).Filename))
	}
	return out
}

func hasFile(fset *token.FileSet, files []*ast.File, name string) bool {
	for _, n := range names(fset, files) {
		if n == name {
			return true
		}
	}
	return false
}
