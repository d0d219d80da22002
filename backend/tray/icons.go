package tray

import (
	"embed"
	"runtime"
)

// The icons are drawn from build/appicon.png by icons/gen.go.
//go:generate go run icons/gen.go ../../build/appicon.png icons

//go:embed icons/*.png icons/*.ico
var icons embed.FS

// icon is the tray icon for s in the format the platform's tray takes: ICO
// on Windows, PNG elsewhere.
func icon(s State) []byte {
	ext := ".png"
	if runtime.GOOS == "windows" {
		ext = ".ico"
	}
	b, err := icons.ReadFile("icons/" + s.String() + ext)
	if err != nil {
		panic("tray: missing embedded icon: " + err.Error())
	}
	return b
}
