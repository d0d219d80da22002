package faceguard

import "strings"

// Allow lets a face keep one use that cannot move below the engine's API.
// Each entry says why in Why; keep the list short.
type Allow struct {
	// File is the face's file it is allowed in ("" in any).
	File string
	// Name is a Use's Name ("keys.ReadKitFile", "keys.Passphrase.Wipe"),
	// or a package's whole API with "format.*".
	Name string
	Why  string
}

func (a Allow) matches(u Use) bool {
	if a.File != "" && a.File != u.File {
		return false
	}
	if pkg, ok := strings.CutSuffix(a.Name, "*"); ok {
		return strings.HasPrefix(u.Name, pkg)
	}
	return a.Name == u.Name
}

// Sort splits uses into those no entry allows, and returns the entries no
// use needs any more (stale: delete them, so the list stays true).
func Sort(uses []Use, allow []Allow) (denied []Use, stale []Allow) {
	used := make([]bool, len(allow))
	for _, u := range uses {
		ok := false
		for i, a := range allow {
			if a.matches(u) {
				ok, used[i] = true, true
			}
		}
		if !ok {
			denied = append(denied, u)
		}
	}
	for i, a := range allow {
		if !used[i] {
			stale = append(stale, a)
		}
	}
	return denied, stale
}
