// Command tools makes the Windows resources of PgSafe's executables (make
// dist, scripts/dist-windows.sh): the icon, the version information and the
// application manifest, as a .syso object file the Go linker puts into the
// .exe, and the icon as a .ico file for the installer. It uses the library
// `wails build` uses (github.com/tc-hib/winres), with the files Wails keeps
// in build/windows; the output depends on its inputs only (no time stamps),
// so the executables are reproducible.
//
//	go run -C build/windows/tools . syso -version V -name pgsafe.exe -description D -out F.syso
//	go run -C build/windows/tools . ico -out F.ico
//	go run -C build/windows/tools . show F.exe   (prints the version information)
//	go run -C build/windows/tools . fileversion -version V   (prints X Y Z N)
//	go run -C build/windows/tools . zip -out F.zip -time UNIX -dir-name D file…
//	    (the portable zip: the files under D/, sorted, every time UNIX)
//
// Paths are taken relative to build/windows (the directory above this one)
// unless absolute.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/tc-hib/winres"
	"github.com/tc-hib/winres/version"
)

// iconSizes are the icon's sizes, as `wails build` makes them.
var iconSizes = []int{256, 128, 64, 48, 32, 16}

// langEnUS is the language of the version strings.
const langEnUS = 0x0409

// appIconID is the icon's resource ID: the Wails window loads its icon from
// ID 3 (winc.AppIconID), and Explorer shows the first icon, this one.
var appIconID = winres.ID(3)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "winres:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: tools syso|ico|show …")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("dir", "..", "the directory of icon, info.json and wails.exe.manifest (build/windows)")
	iconPath := fs.String("icon", "../appicon.png", "the app icon, a square PNG")
	out := fs.String("out", "", "the file to write")
	ver := fs.String("version", "", "PgSafe's version (scripts/version.sh)")
	name := fs.String("name", "", "the executable's file name (OriginalFilename)")
	desc := fs.String("description", "", "the executable's description (FileDescription)")
	stamp := fs.String("time", "", "zip: every entry's time, in seconds since 1970 (SOURCE_DATE_EPOCH)")
	dirName := fs.String("dir-name", "", "zip: the folder the files are put in")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	at := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(*dir, p)
	}
	switch args[0] {
	case "syso":
		if *out == "" || *ver == "" || *name == "" || *desc == "" {
			return errors.New("syso needs -out, -version, -name and -description")
		}
		rs, err := resources(at(*iconPath), at("info.json"), at("wails.exe.manifest"), *ver, *name, *desc)
		if err != nil {
			return err
		}
		return writeFile(*out, func(w io.Writer) error { return rs.WriteObject(w, winres.ArchAMD64) })
	case "ico":
		if *out == "" {
			return errors.New("ico needs -out")
		}
		icon, err := loadIcon(at(*iconPath))
		if err != nil {
			return err
		}
		return writeFile(*out, icon.SaveICO)
	case "zip":
		if *out == "" || *stamp == "" || *dirName == "" || fs.NArg() == 0 {
			return errors.New("zip needs -out, -time, -dir-name and the files")
		}
		sec, err := strconv.ParseInt(*stamp, 10, 64)
		if err != nil {
			return fmt.Errorf("-time %q: %w", *stamp, err)
		}
		return writeFile(*out, func(w io.Writer) error {
			return writeZip(w, *dirName, time.Unix(sec, 0).UTC(), fs.Args())
		})
	case "fileversion":
		v, err := FileVersion(*ver)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, v[0], v[1], v[2], v[3])
		return err
	case "show":
		if fs.NArg() != 1 {
			return errors.New("show needs the .exe")
		}
		return show(fs.Arg(0), stdout)
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// resources is the resource set of one executable: the icon, the manifest
// with the file version as its assembly version, and the version
// information (info.json's strings, then the versions and names).
func resources(iconPath, infoPath, manifestPath, ver, name, desc string) (*winres.ResourceSet, error) {
	fileVersion, err := FileVersion(ver)
	if err != nil {
		return nil, err
	}
	rs := &winres.ResourceSet{}
	icon, err := loadIcon(iconPath)
	if err != nil {
		return nil, err
	}
	if err := rs.SetIcon(appIconID, icon); err != nil {
		return nil, fmt.Errorf("set the icon: %w", err)
	}
	xmlData, err := os.ReadFile(manifestPath)
	if err != nil {
		return nil, err
	}
	manifest, err := winres.AppManifestFromXML(xmlData)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", manifestPath, err)
	}
	manifest.Identity.Version = fileVersion
	rs.SetManifest(manifest)

	infoJSON, err := os.ReadFile(infoPath)
	if err != nil {
		return nil, err
	}
	var vi version.Info
	if err := vi.UnmarshalJSON(infoJSON); err != nil {
		return nil, fmt.Errorf("read %s: %w", infoPath, err)
	}
	dotted := fmt.Sprintf("%d.%d.%d.%d", fileVersion[0], fileVersion[1], fileVersion[2], fileVersion[3])
	vi.SetFileVersion(dotted)
	vi.SetProductVersion(dotted)
	for key, value := range map[string]string{
		version.FileVersion:      ver,
		version.ProductVersion:   ver,
		version.FileDescription:  desc,
		version.OriginalFilename: name,
		version.InternalName:     name,
	} {
		if err := vi.Set(langEnUS, key, value); err != nil {
			return nil, fmt.Errorf("set %s: %w", key, err)
		}
	}
	rs.SetVersionInfo(vi)
	return rs, nil
}

func loadIcon(path string) (*winres.Icon, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	icon, err := winres.NewIconFromResizedImage(img, iconSizes)
	if err != nil {
		return nil, fmt.Errorf("make the icon from %s: %w", path, err)
	}
	return icon, nil
}

// devVersion matches scripts/version.sh's versions: X.Y.Z, then for a
// development build -dev.N and build metadata.
var devVersion = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(?:-dev\.(\d+))?(?:[-+].*)?$`)

// FileVersion is the four numbers Windows shows for version v: X.Y.Z and
// the commit count N of X.Y.Z-dev.N+g…, 0 for a release.
func FileVersion(v string) ([4]uint16, error) {
	m := devVersion.FindStringSubmatch(v)
	if m == nil {
		return [4]uint16{}, fmt.Errorf("version %q is not X.Y.Z[-dev.N…]", v)
	}
	var out [4]uint16
	for i, s := range m[1:] {
		if s == "" {
			continue
		}
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return [4]uint16{}, fmt.Errorf("version %q: %s does not fit a Windows version number (0-65535)", v, s)
		}
		out[i] = uint16(n)
	}
	return out, nil
}

// show prints the version strings of an executable, sorted by name.
func show(exe string, w io.Writer) error {
	f, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer f.Close()
	rs, err := winres.LoadFromEXE(f)
	if err != nil {
		return fmt.Errorf("read the resources of %s: %w", exe, err)
	}
	data := rs.Get(winres.RT_VERSION, winres.ID(1), langEnUS)
	if data == nil {
		return fmt.Errorf("%s has no version information", exe)
	}
	vi, err := version.FromBytes(data)
	if err != nil {
		return fmt.Errorf("read the version information of %s: %w", exe, err)
	}
	table := vi.Table().GetMainTranslation()
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s=%s\n", k, table[k])
	}
	icon, err := rs.GetIcon(appIconID)
	if err != nil {
		return fmt.Errorf("%s has no icon %d: %w", exe, 3, err)
	}
	var ico bytes.Buffer
	if err := icon.SaveICO(&ico); err != nil || ico.Len() < 6 {
		return fmt.Errorf("read the icon of %s: %v", exe, err)
	}
	// An ICO file's header: reserved, type, then the number of images.
	fmt.Fprintf(w, "Icon=%d images\n", binary.LittleEndian.Uint16(ico.Bytes()[4:6]))
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// writeZip writes a zip of files (by their base names) in the folder dir,
// reproducibly: sorted, every time t, the same mode, deflated.
func writeZip(w io.Writer, dir string, t time.Time, files []string) error {
	sorted := append([]string(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return filepath.Base(sorted[i]) < filepath.Base(sorted[j]) })
	zw := zip.NewWriter(w)
	for _, f := range sorted {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		h := &zip.FileHeader{Name: path.Join(dir, filepath.Base(f)), Method: zip.Deflate, Modified: t}
		h.SetMode(0o755)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}
