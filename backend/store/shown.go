package store

// StatusPruned is never stored: it is how a succeeded backup whose every
// copy retention has since deleted is shown (see Backup.Shown). It is
// history, no longer a backup that can be verified or restored.
const StatusPruned Status = "pruned"

// Shown is b's status as a person should read it: a succeeded backup with
// no copy left in any storage (retention deleted them) and no file it was
// imported from is StatusPruned; anything else is b.Status.
func (b Backup) Shown() Status {
	if b.Status != StatusSucceeded || b.File != "" {
		return b.Status
	}
	deleted := false
	for _, c := range b.Copies {
		switch c.Status {
		case CopyWritten, CopyWriting:
			return b.Status
		case CopyDeleted:
			deleted = true
		}
	}
	if deleted {
		return StatusPruned
	}
	return b.Status
}
