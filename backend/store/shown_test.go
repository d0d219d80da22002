package store

import "testing"

func TestShownStatus(t *testing.T) {
	written, deleted, failed := BackupCopy{Status: CopyWritten}, BackupCopy{Status: CopyDeleted}, BackupCopy{Status: CopyFailed}
	for _, tc := range []struct {
		b    Backup
		want Status
	}{
		{Backup{Status: StatusSucceeded, Copies: []BackupCopy{written, deleted}}, StatusSucceeded},
		{Backup{Status: StatusSucceeded, Copies: []BackupCopy{deleted, failed}}, StatusPruned},
		{Backup{Status: StatusSucceeded, Copies: []BackupCopy{deleted}}, StatusPruned},
		{Backup{Status: StatusSucceeded, Copies: []BackupCopy{deleted}, BackupDetails: BackupDetails{File: "/media/usb/x.pgsafe"}}, StatusSucceeded},
		{Backup{Status: StatusFailed, Copies: []BackupCopy{deleted}}, StatusFailed},
		{Backup{Status: StatusSucceeded}, StatusSucceeded},
	} {
		if got := tc.b.Shown(); got != tc.want {
			t.Errorf("Shown(%+v) = %s, want %s", tc.b, got, tc.want)
		}
	}
}
