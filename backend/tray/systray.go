//go:build linux || windows || (darwin && cgo)

package tray

import (
	"sync"

	"fyne.io/systray"
)

// builtMenu is the menu as built in the library: its items by key and what
// each shows, so that a refresh with the same structure only relabels.
type builtMenu struct {
	sig   string
	items map[string]*systray.MenuItem
	shown map[string]entry // label and enabled as last set

	mu      sync.Mutex
	actions map[string]func()
}

// applyMenu makes the library's menu show m; t.mu is held.
func (t *Tray) applyMenu(old *builtMenu, m []entry) *builtMenu {
	sig := signature(m)
	if old != nil && old.sig == sig {
		old.update(m)
		return old
	}
	// The structure changed (databases added or removed, a line appeared):
	// rebuild. Removing the old items closes their ClickedCh, which ends
	// their listeners.
	systray.ResetMenu()
	b := &builtMenu{sig: sig, items: map[string]*systray.MenuItem{}, shown: map[string]entry{}, actions: map[string]func(){}}
	b.add(nil, m)
	return b
}

func (b *builtMenu) add(parent *systray.MenuItem, m []entry) {
	for _, e := range m {
		if e.key == separator {
			if parent == nil {
				systray.AddSeparator()
			} else {
				parent.AddSeparator()
			}
			continue
		}
		var item *systray.MenuItem
		if parent == nil {
			item = systray.AddMenuItem(e.label, "")
		} else {
			item = parent.AddSubMenuItem(e.label, "")
		}
		if !e.enabled {
			item.Disable()
		}
		if e.hasIcon {
			item.SetIcon(icon(e.icon))
		}
		b.items[e.key] = item
		b.shown[e.key] = e
		b.actions[e.key] = e.action
		go b.listen(e.key, item.ClickedCh)
		if e.sub != nil {
			b.add(item, e.sub)
		}
	}
}

// update relabels, enables and disables items in place.
func (b *builtMenu) update(m []entry) {
	for _, e := range m {
		if e.key == separator {
			continue
		}
		item, was := b.items[e.key], b.shown[e.key]
		if e.label != was.label {
			item.SetTitle(e.label)
		}
		if e.hasIcon && e.icon != was.icon {
			item.SetIcon(icon(e.icon))
		}
		if e.enabled != was.enabled {
			if e.enabled {
				item.Enable()
			} else {
				item.Disable()
			}
		}
		b.shown[e.key] = e
		b.mu.Lock()
		b.actions[e.key] = e.action
		b.mu.Unlock()
		if e.sub != nil {
			b.update(e.sub)
		}
	}
}

// listen runs the item's action on each click, on its own goroutine so that
// a slow action does not make the next click get lost.
func (b *builtMenu) listen(key string, clicked <-chan struct{}) {
	for range clicked {
		b.mu.Lock()
		fn := b.actions[key]
		b.mu.Unlock()
		if fn != nil {
			go fn()
		}
	}
}

func setIcon(s State) { systray.SetIcon(icon(s)) }

func setTooltip(text string) { systray.SetTooltip(text) }

// menuOpened receives when the tray host opens the menu (Linux).
func menuOpened() <-chan struct{} { return systray.TrayOpenedCh }
