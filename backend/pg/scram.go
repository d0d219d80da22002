package pg

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// scramIterations is PostgreSQL's default (scram_iterations, 4096).
const scramIterations = 4096

// scramVerifier computes the SCRAM-SHA-256 verifier PostgreSQL stores for
// password (RFC 5802/7677, as PostgreSQL's own clients do for \password), so
// CREATE ROLE … PASSWORD carries the verifier, never the password: it cannot
// land in the server's log. The password must be printable ASCII (where
// SASLprep changes nothing).
func scramVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return scramVerifierSalt(password, salt, scramIterations)
}

func scramVerifierSalt(password string, salt []byte, iter int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	server := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iter, b64(salt), b64(stored[:]), b64(server)), nil
}

// GeneratePassword returns a new random password: 26 characters, 128 bits.
func GeneratePassword() Secret { return NewSecret(rand.Text()) }

// checkNewPassword accepts a password for a new role: at least 12 printable
// ASCII characters.
func checkNewPassword(pw string) error {
	if len(pw) < 12 {
		return errors.New("the new role's password is shorter than 12 characters: use a longer one, or let PgSafe generate it")
	}
	for _, c := range pw {
		if c < 0x20 || c > 0x7e {
			return errors.New("the new role's password has a character outside printable ASCII (letters, digits, punctuation, space): use another, or let PgSafe generate it")
		}
	}
	return nil
}
