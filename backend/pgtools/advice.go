package pgtools

import "runtime"

// InstallAdvice tells the user how to install PostgreSQL client programs on
// this OS.
func InstallAdvice() string {
	switch runtime.GOOS {
	case "darwin":
		return "Install the PostgreSQL client tools: `brew install libpq` (or postgresql@17), or Postgres.app."
	case "windows":
		return "Install PostgreSQL from postgresql.org/download/windows (the \"Command Line Tools\" component is enough)."
	default:
		return "Install the PostgreSQL client tools: `sudo apt install postgresql-client` (Debian/Ubuntu) or `sudo dnf install postgresql` (Fedora/RHEL); the PGDG repositories carry every major version."
	}
}
