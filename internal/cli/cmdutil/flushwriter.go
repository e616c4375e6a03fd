package cmdutil

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// flushWriter buffers streamed output, so that a million lines cost a few
// hundred write(2) calls instead of a million, and still flushes at least
// every flushEvery, so that a reader of the stream (a terminal, `| head`)
// sees each line soon after it is printed even while the next page is
// being fetched.
type flushWriter struct {
	mu     sync.Mutex
	buf    *bufio.Writer
	err    error // the first write error, from a Write or a background flush
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

const flushEvery = 100 * time.Millisecond

func newFlushWriter(w io.Writer) *flushWriter {
	fw := &flushWriter{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go fw.loop()
	return fw
}

func (fw *flushWriter) loop() {
	defer close(fw.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-fw.stop:
			return
		case <-t.C:
			fw.mu.Lock()
			if fw.err == nil && fw.buf.Buffered() > 0 {
				fw.err = fw.buf.Flush()
			}
			fw.mu.Unlock()
		}
	}
}

func (fw *flushWriter) Write(p []byte) (int, error) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.err != nil {
		return 0, fw.err
	}
	n, err := fw.buf.Write(p)
	fw.err = err
	return n, err
}

// Close flushes what is left and stops the background flushing.
func (fw *flushWriter) Close() error {
	fw.mu.Lock()
	if fw.closed {
		fw.mu.Unlock()
		return fw.err
	}
	fw.closed = true
	fw.mu.Unlock()
	close(fw.stop)
	<-fw.done
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.err == nil {
		fw.err = fw.buf.Flush()
	}
	return fw.err
}
