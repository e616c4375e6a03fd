package rotation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/waasctl/waasctl/internal/credentials"
)

// ManualIssuer is the operator working the developer portal by hand: WaaS
// keys can only be created and deleted there. waasctl says what to do,
// takes the downloaded key, and confirms a deletion by watching the old
// key get refused.
type ManualIssuer struct {
	// Instruct tells the operator what to do next.
	Instruct func(msg string)
	// Obtain takes the new key from the operator: the file the portal
	// downloaded, or its content pasted.
	Obtain func(ctx context.Context) (data []byte, source string, err error)
	// Rejected says whether WaaS now refuses the key called name; an error matching
	// ErrKeyNotHeld says it cannot tell, ever (the key left the keyring), and ends the wait.
	Rejected func(ctx context.Context, name string) (bool, error)
	// PollEvery and Timeout bound the wait for a deletion to take effect.
	PollEvery, Timeout time.Duration
	// Waiting, if set, is told when the wait for a deletion starts and until when it may last
	// (a countdown on the terminal); the function it returns is called when the wait ends.
	Waiting func(until time.Time) (done func())
}

func (m *ManualIssuer) Name() string { return "manual" }

func (m *ManualIssuer) Create(ctx context.Context, _ string) (*NewKey, error) {
	m.Instruct("Create a new API key in the Coinbase Developer Platform portal, in the same project as the current key, and download it.")
	data, source, err := m.Obtain(ctx)
	if err != nil {
		return nil, err
	}
	k, err := credentials.ParseKeyInput(data, source)
	if err != nil {
		return nil, fmt.Errorf("the new key from %s: %w", source, err)
	}
	secret, err := k.SecretText()
	if err != nil {
		return nil, err
	}
	return &NewKey{Key: k, Secret: secret}, nil
}

// Find cannot know: the operator made the key and handed it over in one
// step, so no answer can have been lost on the way.
func (m *ManualIssuer) Find(context.Context, string) (string, bool, error) { return "", false, nil }

// Revoke asks the operator to delete the key in the portal and waits until
// WaaS refuses it, polling every PollEvery for at most Timeout.
func (m *ManualIssuer) Revoke(ctx context.Context, name string) error {
	m.Instruct(fmt.Sprintf("Delete the API key %s in the portal now. Waiting until WaaS refuses it (at most %s)...", name, m.Timeout))
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, m.Timeout)
	defer cancel()
	if m.Waiting != nil {
		defer m.Waiting(time.Now().Add(m.Timeout))()
	}
	t := time.NewTicker(m.PollEvery)
	defer t.Stop()
	for {
		rejected, err := m.Rejected(ctx, name)
		if err == nil && rejected {
			return nil
		}
		if errors.Is(err, ErrKeyNotHeld) {
			// Nothing to try the key with: waiting would only run out the clock in silence.
			return fmt.Errorf("%w: %s is no longer in the keyring, so waasctl cannot see WaaS refuse it; delete it in the portal", ErrCannotConfirm, name)
		}
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				// Ctrl-C or SIGTERM, not the end of the wait.
				return fmt.Errorf("waiting for the deletion of %s stopped: %w", name, parent.Err())
			}
			if err != nil {
				return fmt.Errorf("%s: could not check whether it is deleted: %w", name, err)
			}
			return fmt.Errorf("%w: %s still authenticates after %s: delete it in the portal, then resume", ErrIncomplete, name, m.Timeout)
		case <-t.C:
		}
	}
}
