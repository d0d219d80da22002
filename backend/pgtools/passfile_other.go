//go:build !linux

package pgtools

// newPassSecret writes the password into a private passfile named after this
// process (no memfd here); RemoveStalePassfiles sweeps it if this process
// dies before removing it. nil without a password.
func newPassSecret(password string) (*passSecret, error) {
	if password == "" {
		return nil, nil
	}
	line, err := passfileLine(password)
	if err != nil {
		return nil, err
	}
	return newSecretFile("pgpass", line)
}

// newSecretFile writes content into a private file called name, as
// newPassSecret does.
func newSecretFile(name, content string) (*passSecret, error) { return writePassDir(name, content) }
