package waas

import (
	"context"
	"iter"
	"sync"

	"github.com/waasctl/waasctl/internal/nameset"

	"github.com/waasctl/waasctl/internal/waasapi"
)

// fanOut runs expand for each input, at most n at a time, and yields what
// they emit in input order, then in each one's own order: the output is the
// same as a sequential loop's, only sooner.
//
// Up to 2n inputs are started ahead of the output, but only n run at once:
// a branch whose buffer is full (buf items ahead of the consumer) gives up
// its place while it waits, so a slow branch at the head of the order never
// leaves the others idle. Memory stays bounded by 2n*buf items whatever the
// estate's size.
//
// The first error (from the input or from an expand) ends the iteration
// after everything before it in order has been yielded; the rest is
// cancelled.
func fanOut[In, Out any](ctx context.Context, n, buf int, in iter.Seq2[In, error], expand func(ctx context.Context, in In, emit func(Out) bool) error) iter.Seq2[Out, error] {
	return func(yield func(Out, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()

		type task struct {
			out chan Out
			err error // read after out is closed
		}
		lanes := make(chan struct{}, n) // a token per running branch
		acquire := func() bool {
			select {
			case lanes <- struct{}{}:
				return true
			case <-ctx.Done():
				return false
			}
		}
		release := func() { <-lanes }
		// Queued tasks have started; the queue's capacity bounds how far
		// ahead of the output they may get.
		tasks := make(chan *task, 2*n-1)
		start := func(t *task, run func(emit func(Out) bool) error) bool {
			select {
			case tasks <- t:
			case <-ctx.Done():
				return false
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(t.out)
				if !acquire() {
					t.err = ctx.Err()
					return
				}
				held := true
				t.err = run(func(v Out) bool {
					select {
					case t.out <- v:
						return true
					default:
					}
					release() // wait without holding a lane
					held = false
					select {
					case t.out <- v:
					case <-ctx.Done():
						return false
					}
					held = acquire()
					return held
				})
				if held {
					release()
				}
			}()
			return true
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(tasks)
			for item, err := range in {
				t := &task{out: make(chan Out, buf)}
				if err != nil {
					start(t, func(func(Out) bool) error { return err })
					return
				}
				if !start(t, func(emit func(Out) bool) error { return expand(ctx, item, emit) }) {
					return
				}
			}
		}()
		for t := range tasks {
			for v := range t.out {
				if !yield(v, nil) {
					return
				}
			}
			if t.err != nil {
				var zero Out
				yield(zero, t.err)
				return
			}
		}
		// A branch whose emit was refused by cancellation returns no error;
		// the listing is still incomplete and must not look complete.
		if err := ctx.Err(); err != nil {
			var zero Out
			yield(zero, err)
		}
	}
}

// emitAll sends every item of seq to emit, stopping at an error or when
// emit refuses (the consumer has gone).
func emitAll[T any](seq iter.Seq2[T, error], emit func(T) bool) error {
	for v, err := range seq {
		if err != nil {
			return err
		}
		if !emit(v) {
			return nil
		}
	}
	return nil
}

// pageBuffer is how many items one fan-out branch may run ahead: a page,
// so a branch fetches its next page while its last one is consumed, but
// no more than 8 pages across all branches, so that a wide fan-out (the
// adaptive client's ceiling of 64) holds no more than 8 lanes did.
func (c *Client) pageBuffer() int {
	return min(c.pageSize, max(1, c.pageSize*8/c.concurrency))
}

// WalletsOf yields the wallets of every pool in pools, listing up to the
// client's concurrency of pools at once, in pool order.
func (c *Client) WalletsOf(ctx context.Context, pools iter.Seq2[waasapi.Pool, error]) iter.Seq2[waasapi.MPCWallet, error] {
	return fanOut(ctx, c.concurrency, c.pageBuffer(), pools, func(ctx context.Context, p waasapi.Pool, emit func(waasapi.MPCWallet) bool) error {
		return emitAll(c.Wallets(ctx, p.Name), emit)
	})
}

// AllWallets yields every wallet of every pool.
func (c *Client) AllWallets(ctx context.Context) iter.Seq2[waasapi.MPCWallet, error] {
	return c.WalletsOf(ctx, c.Pools(ctx))
}

// GroupOperations is the pending MPC operations of one device group, with
// the first wallet seen in that group.
type GroupOperations struct {
	Wallet     waasapi.MPCWallet
	Operations []waasapi.MPCOperation
}

// OperationsOf lists the pending operations of each wallet's device group,
// up to the client's concurrency of groups at once, in wallet order. A
// group several wallets share is listed once, with its first wallet.
func (c *Client) OperationsOf(ctx context.Context, wallets iter.Seq2[waasapi.MPCWallet, error]) iter.Seq2[GroupOperations, error] {
	return fanOut(ctx, c.concurrency, 1, FirstOfEachGroup(wallets), func(ctx context.Context, w waasapi.MPCWallet, emit func(GroupOperations) bool) error {
		r, err := c.ListMPCOperations(ctx, w.DeviceGroup)
		if err != nil {
			return err
		}
		emit(GroupOperations{Wallet: w, Operations: r.MPCOperations})
		return nil
	})
}

// AddressesOf yields the addresses of each wallet on network, up to the
// client's concurrency of wallets at once, in wallet order.
func (c *Client) AddressesOf(ctx context.Context, network string, wallets iter.Seq2[waasapi.MPCWallet, error]) iter.Seq2[waasapi.Address, error] {
	return fanOut(ctx, c.concurrency, c.pageBuffer(), wallets, func(ctx context.Context, w waasapi.MPCWallet, emit func(waasapi.Address) bool) error {
		return emitAll(c.Addresses(ctx, network, w.Name), emit)
	})
}

// TransactionsOf yields the transactions of each wallet, up to the client's
// concurrency of wallets at once, in wallet order.
func (c *Client) TransactionsOf(ctx context.Context, wallets iter.Seq2[waasapi.MPCWallet, error]) iter.Seq2[waasapi.MPCTransaction, error] {
	return fanOut(ctx, c.concurrency, c.pageBuffer(), wallets, func(ctx context.Context, w waasapi.MPCWallet, emit func(waasapi.MPCTransaction) bool) error {
		return emitAll(c.Transactions(ctx, w.Name), emit)
	})
}

// FirstOfEachGroup yields the wallets of seq whose device group has not
// been seen before, and skips wallets without one. It holds a 16-byte key
// per group (35 to 56 bytes with the map's overhead).
func FirstOfEachGroup(seq iter.Seq2[waasapi.MPCWallet, error]) iter.Seq2[waasapi.MPCWallet, error] {
	return func(yield func(waasapi.MPCWallet, error) bool) {
		seen := nameset.New()
		for w, err := range seq {
			if err != nil {
				yield(w, err)
				return
			}
			if w.DeviceGroup == "" || !seen.Add(w.DeviceGroup) {
				continue
			}
			if !yield(w, nil) {
				return
			}
		}
	}
}
