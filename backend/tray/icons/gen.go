//go:build ignore

// gen draws the tray icon variants from build/appicon.png: the app icon as
// it is (idle), with a green "backing up" arrow badge (running), with an
// amber "!" badge (attention) and with a red "!" badge (failed). Each is written as a 64×64 PNG (Linux StatusNotifierItem
// pixmap, macOS) and an ICO holding 16, 32 and 64 px PNG images (Windows).
// Badges are drawn at the source's 1024 px and scaled down by averaging, which
// anti-aliases them.
//
//	go run icons/gen.go ../../build/appicon.png icons   (from backend/tray; go generate runs it)
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gen APPICON.png OUTDIR")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	check(err)
	src, err := png.Decode(f)
	check(err)
	f.Close()
	base := image.NewNRGBA(src.Bounds())
	draw.Draw(base, base.Bounds(), src, src.Bounds().Min, draw.Src)
	if base.Bounds().Dx() != 1024 || base.Bounds().Dy() != 1024 {
		check(fmt.Errorf("%s is %v, want 1024×1024", os.Args[1], base.Bounds()))
	}

	variants := map[string]*image.NRGBA{
		"idle":    base,
		"running": badge(base, color.NRGBA{0x2f, 0x9e, 0x44, 0xff}, arrowDown),
		"failed":  badge(base, color.NRGBA{0xe0, 0x31, 0x31, 0xff}, exclamation),
		// Mantine's yellow.6 darkened for contrast behind a white glyph.
		"attention": badge(base, color.NRGBA{0xe6, 0x8a, 0x00, 0xff}, exclamation),
	}
	for name, img := range variants {
		write(filepath.Join(os.Args[2], name+".png"), encodePNG(scale(img, 64)))
		var sizes [][]byte
		for _, s := range []int{16, 32, 64} {
			sizes = append(sizes, encodePNG(scale(img, s)))
		}
		write(filepath.Join(os.Args[2], name+".ico"), ico(sizes, []int{16, 32, 64}))
	}
}

// badge returns a copy of img with a filled circle in the lower right corner
// (white rim, fill colour) and a white glyph drawn on it.
func badge(img *image.NRGBA, fill color.NRGBA, glyph func(x, y float64) bool) *image.NRGBA {
	out := image.NewNRGBA(img.Bounds())
	copy(out.Pix, img.Pix)
	const cx, cy, r, rim = 760.0, 760.0, 230.0, 44.0
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	for y := 0; y < 1024; y++ {
		for x := 0; x < 1024; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			d := math.Hypot(fx-cx, fy-cy)
			switch {
			case d > r+rim:
			case d > r:
				out.SetNRGBA(x, y, white)
			case glyph(fx-cx, fy-cy):
				out.SetNRGBA(x, y, white)
			default:
				out.SetNRGBA(x, y, fill)
			}
		}
	}
	return out
}

// arrowDown: a stem and a head pointing down, centred on the badge.
func arrowDown(x, y float64) bool {
	if math.Abs(x) <= 34 && y >= -130 && y <= 30 {
		return true
	}
	// head: triangle with its top edge at y=10 (half width 110) and tip at y=140
	if y >= 10 && y <= 140 {
		half := 110 * (140 - y) / 130
		return math.Abs(x) <= half
	}
	return false
}

// exclamation: a bar and a dot.
func exclamation(x, y float64) bool {
	if math.Abs(x) <= 34 && y >= -140 && y <= 50 {
		return true
	}
	return math.Hypot(x, y-110) <= 38
}

// scale shrinks a 1024 px square image to size px by averaging blocks
// (premultiplied alpha, so transparent pixels do not darken edges).
func scale(img *image.NRGBA, size int) *image.NRGBA {
	n := img.Bounds().Dx() / size
	out := image.NewNRGBA(image.Rect(0, 0, size, size))
	for oy := 0; oy < size; oy++ {
		for ox := 0; ox < size; ox++ {
			var r, g, b, a float64
			for y := oy * n; y < (oy+1)*n; y++ {
				for x := ox * n; x < (ox+1)*n; x++ {
					c := img.NRGBAAt(x, y)
					al := float64(c.A) / 255
					r += float64(c.R) * al
					g += float64(c.G) * al
					b += float64(c.B) * al
					a += al
				}
			}
			px := color.NRGBA{}
			if a > 0 {
				px = color.NRGBA{uint8(math.Round(r / a)), uint8(math.Round(g / a)), uint8(math.Round(b / a)),
					uint8(math.Round(a / float64(n*n) * 255))}
			}
			out.SetNRGBA(ox, oy, px)
		}
	}
	return out
}

func encodePNG(img image.Image) []byte {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	check(enc.Encode(&buf, img))
	return buf.Bytes()
}

// ico packs PNG images into an ICO file (PNG entries: Windows Vista and later).
func ico(pngs [][]byte, sizes []int) []byte {
	var buf bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&buf, le, [3]uint16{0, 1, uint16(len(pngs))}) // reserved, type icon, count
	offset := 6 + 16*len(pngs)
	for i, p := range pngs {
		dim := uint8(sizes[i])
		if sizes[i] >= 256 {
			dim = 0
		}
		buf.Write([]byte{dim, dim, 0, 0})        // width, height, palette, reserved
		binary.Write(&buf, le, [2]uint16{1, 32}) // planes, bits per pixel
		binary.Write(&buf, le, [2]uint32{uint32(len(p)), uint32(offset)})
		offset += len(p)
	}
	for _, p := range pngs {
		buf.Write(p)
	}
	return buf.Bytes()
}

func write(path string, b []byte) { check(os.WriteFile(path, b, 0o644)) }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
