package storage

import (
	"path"
	"strings"
)

// TempPrefix starts the temporary files a Put writes beside its object (a
// folder, SFTP); List never shows them.
const TempPrefix = ".pgsafe-tmp-"

// TempFilePattern is the name pattern (for os.CreateTemp; "*" is the random
// part) of a temporary file for object: TempPrefix, the object's base name,
// "~", random. It names the object so a sweep can tell whose it is.
func TempFilePattern(object string) string {
	return TempPrefix + path.Base(object) + "~*"
}

// TempFileObject returns the object a temporary file was written for, given
// the file's slash-separated path in the storage, and whether it is a
// temporary file at all. The object is "" for one of an older PgSafe (no
// object in its name).
func TempFileObject(file string) (object string, ok bool) {
	dir, base := path.Split(file)
	rest, ok := strings.CutPrefix(base, TempPrefix)
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, "~")
	if i <= 0 {
		return "", true
	}
	return dir + rest[:i], true
}
