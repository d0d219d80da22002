package ui

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Cancel while the window waits in FinishSignIn: the waiting ends with the
// sign-in's context cancelled (once FinishSignIn waited, CancelSignIn found
// nothing to cancel, and the window's "Cancel" did nothing).
func TestCancelSignInWhileWaiting(t *testing.T) {
	svc := &StorageService{core: &Core{}}
	st, err := svc.core.signIns.start(func(ctx context.Context, open func(string) error) error {
		if err := open("https://accounts.example/authorize"); err != nil {
			return err
		}
		<-ctx.Done() // the browser never comes back
		return ctx.Err()
	})
	if err != nil || st.URL == "" {
		t.Fatalf("start: %+v, %v", st, err)
	}
	finished := make(chan error, 1)
	go func() { finished <- svc.FinishSignIn(st.ID) }()
	// FinishSignIn is waiting (or about to): cancel until it returns.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		svc.CancelSignIn(st.ID)
		select {
		case err := <-finished:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("FinishSignIn after CancelSignIn: %v, want context.Canceled", err)
			}
			if svc.core.signIns.get(st.ID) != nil {
				t.Fatal("the sign-in is still listed after it ended")
			}
			return
		case <-tick.C:
		case <-deadline:
			t.Fatal("CancelSignIn did not end the waiting FinishSignIn")
		}
	}
}
