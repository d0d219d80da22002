// Package macos builds PgSafe's macOS app bundle, PgSafe.app (its layout
// is package macapp's), from executables built on a Mac: the Info.plists
// of the window app and of the agent helper app (LSUIElement), the icon as
// .icns from build/appicon.png, the LaunchAgent as a template (package
// autostart's, for /Applications). Nothing here needs macOS: the tree is
// generated and checked on Linux with stand-in executables, and
// scripts/dist-macos.sh runs it on a Mac with the real ones
// (docs/PACKAGING.md, "macOS").
package macos

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/jackmordaunt/icns"
	"howett.net/plist"

	"github.com/pgsafe/pgsafe/backend/internal/macapp"
	"github.com/pgsafe/pgsafe/backend/tray/autostart"
)

// MinimumSystem is the oldest macOS PgSafe runs on: Go's own (Go 1.26
// needs macOS 12 Monterey). scripts/dist-macos.sh builds with
// -mmacosx-version-min of the same.
const MinimumSystem = "12.0"

// Bundle is what goes into PgSafe.app.
type Bundle struct {
	// Version is PgSafe's version (scripts/version.sh: 1.2.3 or
	// 1.2.3-dev.N+gHASH).
	Version string
	// Window and Agent are the executables: the window (Wails, with the
	// command line) and the agent (the headless build, with the menu bar
	// icon). On a Mac they are universal binaries.
	Window, Agent string
	// IconPNG is the app's icon, a square PNG of 1024 px (build/appicon.png).
	IconPNG []byte
	// Copyright is the Info.plist's NSHumanReadableCopyright.
	Copyright string
	// Time is every file's and folder's modification time
	// (SOURCE_DATE_EPOCH), so two builds give the same tree.
	Time time.Time
}

// Write writes the bundle as dir/PgSafe.app (replacing one there) and
// returns its path.
func (b Bundle) Write(dir string) (string, error) {
	if b.Window == "" || b.Agent == "" {
		return "", errors.New("the bundle needs the window's and the agent's executables")
	}
	window, err := WindowInfo(b.Version, b.Copyright)
	if err != nil {
		return "", err
	}
	agent, err := AgentInfo(b.Version, b.Copyright)
	if err != nil {
		return "", err
	}
	icon, err := Icns(b.IconPNG)
	if err != nil {
		return "", err
	}
	windowPlist, err := window.Marshal()
	if err != nil {
		return "", err
	}
	agentPlist, err := agent.Marshal()
	if err != nil {
		return "", err
	}

	app := filepath.Join(dir, macapp.Name+".app")
	if err := os.RemoveAll(app); err != nil {
		return "", err
	}
	helper := filepath.FromSlash(macapp.AgentDir)
	files := []struct {
		path string
		data []byte
		from string // copied from this file instead
		mode os.FileMode
	}{
		{path: "Contents/Info.plist", data: windowPlist, mode: 0o644},
		{path: macapp.WindowPath, from: b.Window, mode: 0o755},
		{path: "Contents/Resources/" + macapp.Icon, data: icon, mode: 0o644},
		{path: "Contents/Resources/" + autostart.AgentLabel + ".plist", data: LaunchAgentTemplate(), mode: 0o644},
		{path: filepath.ToSlash(filepath.Join(helper, "Contents", "Info.plist")), data: agentPlist, mode: 0o644},
		{path: macapp.AgentPath, from: b.Agent, mode: 0o755},
		{path: filepath.ToSlash(filepath.Join(helper, "Contents", "Resources", macapp.Icon)), data: icon, mode: 0o644},
	}
	for _, f := range files {
		p := filepath.Join(app, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if f.from != "" {
			err = copyFile(f.from, p, f.mode)
		} else {
			err = os.WriteFile(p, f.data, f.mode)
		}
		if err != nil {
			return "", fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	if err := touchTree(app, b.Time); err != nil {
		return "", err
	}
	return app, nil
}

// LaunchAgentTemplate is the LaunchAgent that Settings > Start PgSafe at
// login writes (package autostart's Plist), for the app in /Applications:
// for an administrator installing it by hand or by MDM into
// ~/Library/LaunchAgents. The app writes its own with the path it runs
// from and the user's log.
func LaunchAgentTemplate() []byte {
	return autostart.Plist([]string{"/Applications/" + macapp.Name + ".app/" + macapp.AgentPath, "agent", "--login"}, "")
}

// InfoPlist is an app's Contents/Info.plist: the keys macOS reads.
type InfoPlist struct {
	CFBundleDevelopmentRegion     string `plist:"CFBundleDevelopmentRegion"`
	CFBundleDisplayName           string `plist:"CFBundleDisplayName"`
	CFBundleExecutable            string `plist:"CFBundleExecutable"`
	CFBundleIconFile              string `plist:"CFBundleIconFile"`
	CFBundleIdentifier            string `plist:"CFBundleIdentifier"`
	CFBundleInfoDictionaryVersion string `plist:"CFBundleInfoDictionaryVersion"`
	CFBundleName                  string `plist:"CFBundleName"`
	CFBundlePackageType           string `plist:"CFBundlePackageType"`
	// CFBundleShortVersionString and CFBundleVersion are X.Y.Z (macOS
	// wants integers); PgSafeVersion is the whole version.
	CFBundleShortVersionString string `plist:"CFBundleShortVersionString"`
	CFBundleVersion            string `plist:"CFBundleVersion"`
	PgSafeVersion              string `plist:"PgSafeVersion"`
	LSApplicationCategoryType  string `plist:"LSApplicationCategoryType"`
	LSMinimumSystemVersion     string `plist:"LSMinimumSystemVersion"`
	// LSUIElement: an agent app (no Dock icon, no menu bar menus of its
	// own; its status item shows).
	LSUIElement              bool   `plist:"LSUIElement,omitempty"`
	NSHighResolutionCapable  bool   `plist:"NSHighResolutionCapable"`
	NSHumanReadableCopyright string `plist:"NSHumanReadableCopyright,omitempty"`
}

// Marshal is the plist as XML.
func (p InfoPlist) Marshal() ([]byte, error) {
	b, err := plist.MarshalIndent(p, plist.XMLFormat, "\t")
	if err != nil {
		return nil, fmt.Errorf("Info.plist: %w", err)
	}
	return append(b, '\n'), nil
}

// WindowInfo is the window app's Info.plist.
func WindowInfo(version, copyright string) (InfoPlist, error) {
	short, err := shortVersion(version)
	if err != nil {
		return InfoPlist{}, err
	}
	return InfoPlist{
		CFBundleDevelopmentRegion:     "en",
		CFBundleDisplayName:           macapp.Name,
		CFBundleExecutable:            macapp.Executable,
		CFBundleIconFile:              macapp.Icon,
		CFBundleIdentifier:            macapp.BundleID,
		CFBundleInfoDictionaryVersion: "6.0",
		CFBundleName:                  macapp.Name,
		CFBundlePackageType:           "APPL",
		CFBundleShortVersionString:    short,
		CFBundleVersion:               short,
		PgSafeVersion:                 version,
		LSApplicationCategoryType:     "public.app-category.utilities",
		LSMinimumSystemVersion:        MinimumSystem,
		NSHighResolutionCapable:       true,
		NSHumanReadableCopyright:      copyright,
	}, nil
}

// AgentInfo is the agent helper app's Info.plist: LSUIElement.
func AgentInfo(version, copyright string) (InfoPlist, error) {
	p, err := WindowInfo(version, copyright)
	if err != nil {
		return p, err
	}
	p.CFBundleDisplayName = macapp.AgentName
	p.CFBundleName = macapp.AgentName
	p.CFBundleExecutable = macapp.AgentExecutable
	p.CFBundleIdentifier = macapp.AgentBundleID
	p.LSUIElement = true
	return p, nil
}

var versionRE = regexp.MustCompile(`^(\d+\.\d+\.\d+)(?:[-+].*)?$`)

// shortVersion is X.Y.Z of version (1.2.3-dev.4+gabc: 1.2.3).
func shortVersion(version string) (string, error) {
	m := versionRE.FindStringSubmatch(version)
	if m == nil {
		return "", fmt.Errorf("version %q is not X.Y.Z[-…]", version)
	}
	return m[1], nil
}

// Icns is the app icon as .icns from a square PNG of at least 512 px: PNG
// images of 1024, 512, 256, 64 and 32 px (jackmordaunt/icns, as Wails
// makes its apps' icons), scaled with Lanczos.
func Icns(pngData []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("the app icon: %w", err)
	}
	if s := img.Bounds().Size(); s.X != s.Y || s.X < 512 {
		return nil, fmt.Errorf("the app icon is %dx%d: it must be square, at least 512 px", s.X, s.Y)
	}
	var b bytes.Buffer
	if err := icns.NewEncoder(&b).WithAlgorithm(icns.Lanczos3).Encode(img); err != nil {
		return nil, fmt.Errorf("the app icon as .icns: %w", err)
	}
	return b.Bytes(), nil
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// touchTree sets every time under root, deepest first.
func touchTree(root string, t time.Time) error {
	var paths []string
	if err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	}); err != nil {
		return err
	}
	for i := len(paths) - 1; i >= 0; i-- {
		if err := os.Chtimes(paths[i], t, t); err != nil {
			return err
		}
	}
	return nil
}
