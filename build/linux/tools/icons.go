// Command icons writes the hicolor theme's PNG sizes of PgSafe's icon, scaled
// down from the 1024 px build/appicon.png with Catmull-Rom resampling, for the
// Linux packages. The output depends on the input bytes only, so two builds
// give the same files.
//
//	go run . SRC.png OUTDIR NAME   (writes OUTDIR/NxN/apps/NAME.png)
package main

import (
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: icons SRC.png OUTDIR NAME")
		os.Exit(2)
	}
	if err := write(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		slog.Error("icons not written", "err", err)
		os.Exit(1)
	}
}

func write(src, outDir, name string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("opening the icon: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	// The hicolor sizes desktops look up for an application icon.
	for _, n := range []int{16, 24, 32, 48, 64, 128, 256, 512} {
		dst := image.NewNRGBA(image.Rect(0, 0, n, n))
		draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
		path := filepath.Join(outDir, fmt.Sprintf("%dx%d", n, n), "apps", name+".png")
		if err := save(path, dst); err != nil {
			return err
		}
	}
	return nil
}

func save(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the icon folder: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
