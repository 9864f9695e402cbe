package journal

// Changed returns the sequence number of the newest entry and a channel that is closed when the
// next one is added, so a watcher (the console's event stream) can follow the journal without
// polling and without the journal knowing who watches.
func (j *Journal) Changed() (uint64, <-chan struct{}) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.changed == nil {
		j.changed = make(chan struct{})
	}
	return j.seq, j.changed
}
