package sandbox

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/waasctl/waasctl/internal/fsutil"
)

// --state persistence: the whole persistent struct, gob-encoded, replaced
// atomically, so that a crash leaves either the old state or the new one.

// stateVersion 2: keys name the wallet they belong to (keyRec.WalletID).
const stateVersion = 2

var errNoState = errors.New("no saved state")

func loadState(path string) (*persistent, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoState
	}
	if err != nil {
		return nil, fmt.Errorf("open state: %w", err)
	}
	defer f.Close()
	var st persistent
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&st); err != nil {
		return nil, fmt.Errorf("state file %s is not a sandbox state (%v); move it away to start afresh", path, err)
	}
	switch st.Version {
	case stateVersion:
	case 1:
		st.upgradeFrom1()
	default:
		return nil, fmt.Errorf("state file %s has version %d, this sandbox reads %d; move it away to start afresh", path, st.Version, stateVersion)
	}
	return &st, nil
}

// upgradeFrom1 gives each key that backs an address its wallet: version 1
// had one wallet per group and no owners on keys.
func (st *persistent) upgradeFrom1() {
	for _, es := range st.Orgs {
		for _, a := range es.Addresses {
			if g := es.Groups[a.GroupID]; g != nil {
				if k := g.key(a.KeyID); k != nil && k.WalletID == "" {
					k.WalletID = a.WalletID
				}
			}
		}
	}
	st.Version = stateVersion
}

// Save writes the state to StatePath now.
func (s *Server) Save() error {
	if s.cfg.StatePath == "" {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.dirty.Store(false)
	s.mu.RLock()
	// Writing LastUseNano and Nonces under the read lock is safe only
	// because saveMu keeps saves one at a time and nothing else writes them.
	for _, k := range s.state.Keys {
		k.LastUseNano = k.lastUse.Load()
	}
	s.state.Nonces = s.nonces.live(s.now())
	err := fsutil.Write(s.cfg.StatePath, 0o600, func(w io.Writer) error { return gob.NewEncoder(w).Encode(s.state) })
	s.mu.RUnlock()
	if err != nil {
		s.dirty.Store(true)
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// saveLoop saves the state about every second while it changes, so that a
// killed sandbox loses little. A large estate takes a while to encode, so
// the pause after a save is at least four times as long as the save took.
func (s *Server) saveLoop() {
	defer close(s.saveDone)
	pause := time.Second
	for {
		t := time.NewTimer(pause)
		select {
		case <-s.stopSave:
			t.Stop()
			return
		case <-t.C:
		}
		if !s.dirty.Load() {
			continue
		}
		start := time.Now()
		if err := s.Save(); err != nil {
			s.log.Error("saving state failed", "err", err)
		}
		pause = max(time.Second, 4*time.Since(start))
	}
}
