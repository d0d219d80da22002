package tray

// aquaSession reads `launchctl managername` (macOS): a menu bar icon can be
// shown in a graphical login's session ("Aqua") only.
func aquaSession(manager string) Availability {
	switch manager {
	case "Aqua":
		return Availability{Available: true}
	case "":
		return Availability{Available: true} // launchd did not say: try
	}
	return Availability{Reason: "this is not a graphical login session (launchd session " + manager +
		", e.g. ssh), so there is no menu bar to show an icon in"}
}
