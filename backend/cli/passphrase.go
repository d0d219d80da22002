package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// passphraseSource reads passphrases: one line of stdin (--passphrase-stdin,
// for scripts), or the terminal without echo. It never prints them.
type passphraseSource struct {
	env       *Env
	fromStdin bool
	stdin     *bufio.Reader
}

func newPassphraseSource(env *Env, fromStdin bool) *passphraseSource {
	return &passphraseSource{env: env, fromStdin: fromStdin, stdin: bufio.NewReader(env.Stdin)}
}

// read asks once, with prompt on stderr when on a terminal.
func (p *passphraseSource) read(prompt string) (*keys.Passphrase, error) {
	if p.fromStdin {
		line, err := p.stdin.ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return nil, errors.New("--passphrase-stdin: no passphrase line on standard input")
		}
		return keys.NewPassphrase([]byte(strings.TrimRight(line, "\r\n"))), nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errors.New("no terminal to ask the passphrase on: use --passphrase-stdin")
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("read the passphrase: %w", err)
	}
	return keys.NewPassphrase(b), nil
}

// chooseNew is a new kit's or protected key file's passphrase: generated
// with generate (printGenerated shows it once the kit is written), else
// asked (newPassphrase), with the way to a strong one when it is weak.
func (p *passphraseSource) chooseNew(generate bool) (*keys.Passphrase, error) {
	if generate {
		if p.fromStdin {
			return nil, errors.New("give --generate-passphrase or --passphrase-stdin, not both")
		}
		return keys.GeneratePassphrase()
	}
	pass, err := p.newPassphrase()
	if errors.Is(err, keys.ErrWeakPassphrase) {
		return nil, fmt.Errorf("%w (--generate-passphrase makes one of %d random words)", err, keys.GeneratedWords)
	}
	return pass, err
}

// printGenerated shows a generated passphrase, this once, on w (stderr:
// stdout may carry the kit's text).
func printGenerated(w io.Writer, pass *keys.Passphrase) {
	fmt.Fprintf(w, "Its passphrase, generated (shown this once, PgSafe does not keep it: write it down and keep it apart from the kit):\n  %s\n", pass.Bytes())
}

// newPassphrase asks for a new passphrase, twice on a terminal.
func (p *passphraseSource) newPassphrase() (*keys.Passphrase, error) {
	a, err := p.read("New passphrase for the recovery kit: ")
	if err != nil {
		return nil, err
	}
	if err := a.CheckNew(); err != nil {
		a.Wipe()
		return nil, err
	}
	if p.fromStdin {
		return a, nil
	}
	b, err := p.read("Type it again: ")
	if err != nil {
		a.Wipe()
		return nil, err
	}
	defer b.Wipe()
	if !a.Equal(b) {
		a.Wipe()
		return nil, errors.New("the two passphrases differ: nothing was written")
	}
	return a, nil
}

// func returns a keys.PassphraseFunc asking for an existing kit's passphrase.
func (p *passphraseSource) ask() keys.PassphraseFunc {
	return func(_ context.Context, req keys.PassphraseRequest) (*keys.Passphrase, error) {
		return p.read(fmt.Sprintf("Passphrase of %s (key %s): ", req.Source.Path, req.KeyID))
	}
}
