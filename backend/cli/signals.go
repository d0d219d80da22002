package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pgsafe/pgsafe/backend/engine"
)

// interrupted is the cause of a command's context cancelled by a signal. It
// matches engine.ErrCancelled, so a backup cut short is recorded as
// cancelled (not failed: nobody is notified), with this as its reason.
type interrupted struct{ sig os.Signal }

func (i interrupted) Error() string        { return "interrupted by " + signalName(i.sig) }
func (i interrupted) Is(target error) bool { return target == engine.ErrCancelled }
func (i interrupted) exitCode() int        { return 128 + signalNumber(i.sig) }

func signalNumber(sig os.Signal) int {
	s, _ := sig.(syscall.Signal)
	return int(s)
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT (Ctrl+C)"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// interruptible returns a context the first SIGINT or SIGTERM cancels, so
// the command stops and cleans up after itself (temporary files and uploads
// removed, the history and audit log told) before exiting; a second signal
// ends the process at once. stop gives the signals back.
func interruptible(env *Env) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(env.Ctx)
	stopSignals := onSignals(func(sig os.Signal) {
		fmt.Fprintf(env.Stderr, "\npgsafe: %s: stopping and cleaning up (again to quit at once)\n", signalName(sig))
		cancel(interrupted{sig})
	}, func(sig os.Signal) {
		fmt.Fprintf(env.Stderr, "pgsafe: %s again: quitting without cleaning up\n", signalName(sig))
		os.Exit(128 + signalNumber(sig))
	})
	return ctx, func() {
		stopSignals()
		cancel(nil)
	}
}

// onSignals calls first on the first SIGINT or SIGTERM and again on each
// one after it, until stop, which gives the signals back.
func onSignals(first, again func(os.Signal)) (stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case sig := <-sigs:
				if n++; n == 1 {
					first(sig)
				} else {
					again(sig)
				}
			case <-quit:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(quit)
	}
}

// interruptedExit gives err the exit code of the signal that cancelled ctx
// (130 for SIGINT, 143 for SIGTERM), if one did.
func interruptedExit(ctx context.Context, err error) error {
	var i interrupted
	if err == nil || !errors.As(context.Cause(ctx), &i) {
		return err
	}
	return exitError{code: i.exitCode(), err: err}
}
