package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/acmock/acmock/activeconnect"
)

// progress shows a session's status while waiting: on a terminal, one line redrawn with a spinner
// and the elapsed time; elsewhere, a plain line per change, which reads well in logs and pipes.
type progress struct {
	w     io.Writer
	tty   bool
	label string
	now   func() time.Time
	start time.Time

	mu     sync.Mutex
	status activeconnect.SessionStatus
	note   string
	frame  int
	stop   chan struct{}
	done   chan struct{}
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// spinnerTick is how often the spinner turns.
const spinnerTick = 100 * time.Millisecond

func startProgress(w io.Writer, tty bool, label string, status activeconnect.SessionStatus, now func() time.Time) *progress {
	p := &progress{w: w, tty: tty, label: label, now: now, start: now(), status: status}
	if !tty {
		fmt.Fprintf(w, "%s: %s\n", label, describe(status))
		return p
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	p.mu.Lock()
	p.draw()
	p.mu.Unlock()
	go p.spin()
	return p
}

func (p *progress) spin() {
	defer close(p.done)
	t := time.NewTicker(spinnerTick)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.frame++
			p.draw()
			p.mu.Unlock()
		}
	}
}

// draw rewrites the terminal line; p.mu is held.
func (p *progress) draw() {
	elapsed := p.now().Sub(p.start).Truncate(time.Second)
	fmt.Fprintf(p.w, "\r\033[K%s %s: %s%s  %s", spinnerFrames[p.frame%len(spinnerFrames)], p.label, describe(p.status), p.note, elapsed)
}

// setStatus shows a new status.
func (p *progress) setStatus(s activeconnect.SessionStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.note = s, ""
	if p.tty {
		p.draw()
		return
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.label, describe(s))
}

// retry shows that a poll failed and when the next one comes.
func (p *progress) retry(err error, delay time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		p.note = fmt.Sprintf(" [poll failed, retrying in %s]", delay)
		p.draw()
		return
	}
	fmt.Fprintf(p.w, "%s: poll failed, retrying in %s: %v\n", p.label, delay, err)
}

// finish stops the spinner and leaves the final status on its own line.
func (p *progress) finish() {
	if !p.tty {
		return
	}
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[K%s: %s\n", p.label, describe(p.status))
}
