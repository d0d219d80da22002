package tray

import "testing"

// macOS: a menu bar icon only in a graphical login's launchd session.
func TestAquaSession(t *testing.T) {
	for _, c := range []struct {
		manager string
		ok      bool
	}{{"Aqua", true}, {"", true}, {"StandardIO", false}, {"Background", false}, {"LoginWindow", false}} {
		av := aquaSession(c.manager)
		if av.Available != c.ok || (!c.ok && av.Reason == "") {
			t.Errorf("aquaSession(%q) = %+v, want available %v (with a reason if not)", c.manager, av, c.ok)
		}
	}
}
