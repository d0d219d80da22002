package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/pgsafe/pgsafe/backend/backup"
	"github.com/pgsafe/pgsafe/backend/human"
)

// progressLine shows a backup's progress on stderr: one line rewritten in
// place on a terminal; a line per phase and every 10 seconds otherwise (logs).
type progressLine struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	phase    backup.Phase
	lastLine time.Time
	width    int
}

func newProgressLine(w io.Writer) *progressLine {
	f, ok := w.(*os.File)
	return &progressLine{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progressLine) show(pr backup.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	text := describeProgress(pr)
	if p.tty {
		pad := ""
		if n := p.width - len(text); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		fmt.Fprintf(p.w, "\r%s%s", text, pad)
		p.width = len(text)
		return
	}
	if pr.Phase != p.phase || time.Since(p.lastLine) >= 10*time.Second {
		p.phase, p.lastLine = pr.Phase, time.Now()
		fmt.Fprintln(p.w, text)
	}
}

func (p *progressLine) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.width > 0 {
		fmt.Fprintln(p.w)
	}
}

// describeProgress: "dumping public.orders: 1.2 GB of ~3.4 GB, 85 MB/s, about 26s left".
func describeProgress(pr backup.Progress) string {
	if pr.Waiting != "" {
		return string(pr.Phase) + ": " + pr.Waiting
	}
	if pr.Phase != backup.PhaseDumping {
		return string(pr.Phase) + "…"
	}
	var b strings.Builder
	b.WriteString("dumping")
	if pr.Table != "" {
		b.WriteString(" " + pr.Table)
	}
	b.WriteString(": " + human.Bytes(pr.RawBytes))
	if pr.EstimatedBytes > 0 {
		b.WriteString(" of ~" + human.Bytes(pr.EstimatedBytes))
	}
	if pr.BytesPerSecond > 0 {
		b.WriteString(", " + human.Bytes(int64(pr.BytesPerSecond)) + "/s")
	}
	if pr.ETA > 0 {
		b.WriteString(fmt.Sprintf(", about %v left", pr.ETA.Round(time.Second)))
	}
	for _, s := range pr.Storages {
		if s.Error != "" {
			b.WriteString("; " + s.Name + " dropped out")
		}
	}
	return b.String()
}
