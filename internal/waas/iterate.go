package waas

import (
	"context"
	"errors"
	"iter"
	"net/http"

	"github.com/waasctl/waasctl/internal/waasapi"
)

// Iterators follow nextPageToken and yield one item at a time, so a caller
// that streams its output holds one page in memory whatever the estate's
// size. Each asks for the client's page size. An error ends the iteration:
// it is yielded once, with the zero item.

// pager fetches one page: its items and the token of the next.
type pager[T any] func(ctx context.Context, page PageRequest) ([]T, string, error)

// fallbackPageSize is the page size every list call documents as its
// default; a service that refuses a larger one (the real maximum is not
// published) is asked again with it.
const fallbackPageSize = 50

// ErrPageLoop is a listing whose next-page token comes back again: a service that
// does so (by a bug, or on purpose) would be listed for ever.
var ErrPageLoop = errors.New("the service returned a page token it had returned before: its listing loops, so it was stopped (the items so far may repeat); report it to the service, or list again later")

func paginate[T any](ctx context.Context, pageSize int, fetch pager[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		page := PageRequest{Size: pageSize}
		seen := map[string]bool{}
		for {
			items, next, err := fetch(ctx, page)
			if err != nil && page.Token == "" && page.Size > fallbackPageSize && HTTPCode(err) == http.StatusBadRequest {
				page.Size = fallbackPageSize
				items, next, err = fetch(ctx, page)
			}
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if seen[next] {
				var zero T
				yield(zero, ErrPageLoop)
				return
			}
			seen[next] = true
			page.Token = next
		}
	}
}

// Pools yields every pool.
func (c *Client) Pools(ctx context.Context) iter.Seq2[waasapi.Pool, error] {
	return paginate(ctx, c.pageSize, func(ctx context.Context, p PageRequest) ([]waasapi.Pool, string, error) {
		r, err := c.ListPools(ctx, p)
		return r.Pools, r.NextPageToken, err
	})
}

// Wallets yields the MPC wallets of one pool.
func (c *Client) Wallets(ctx context.Context, pool string) iter.Seq2[waasapi.MPCWallet, error] {
	return paginate(ctx, c.pageSize, func(ctx context.Context, p PageRequest) ([]waasapi.MPCWallet, string, error) {
		r, err := c.ListMPCWallets(ctx, pool, p)
		return r.MPCWallets, r.NextPageToken, err
	})
}

// Addresses yields the addresses on network, of one wallet if wallet is set.
func (c *Client) Addresses(ctx context.Context, network, wallet string) iter.Seq2[waasapi.Address, error] {
	return paginate(ctx, c.pageSize, func(ctx context.Context, p PageRequest) ([]waasapi.Address, string, error) {
		r, err := c.ListAddresses(ctx, network, wallet, p)
		return r.Addresses, r.NextPageToken, err
	})
}

// Balances yields the balances of one address.
func (c *Client) Balances(ctx context.Context, address string) iter.Seq2[waasapi.Balance, error] {
	return paginate(ctx, c.pageSize, func(ctx context.Context, p PageRequest) ([]waasapi.Balance, string, error) {
		r, err := c.ListBalances(ctx, address, p)
		return r.Balances, r.NextPageToken, err
	})
}

// Transactions yields the MPC transactions of one wallet.
func (c *Client) Transactions(ctx context.Context, wallet string) iter.Seq2[waasapi.MPCTransaction, error] {
	return paginate(ctx, c.pageSize, func(ctx context.Context, p PageRequest) ([]waasapi.MPCTransaction, string, error) {
		r, err := c.ListMPCTransactions(ctx, wallet, p)
		return r.MPCTransactions, r.NextPageToken, err
	})
}

// Networks yields every network.
func (c *Client) Networks(ctx context.Context) iter.Seq2[waasapi.Network, error] {
	return paginate(ctx, c.pageSize, func(ctx context.Context, p PageRequest) ([]waasapi.Network, string, error) {
		r, err := c.ListNetworks(ctx, p)
		return r.Networks, r.NextPageToken, err
	})
}

// Operations yields the pending MPC operations of one device group (one
// unpaginated call).
func (c *Client) Operations(ctx context.Context, group string) iter.Seq2[waasapi.MPCOperation, error] {
	return func(yield func(waasapi.MPCOperation, error) bool) {
		r, err := c.ListMPCOperations(ctx, group)
		if err != nil {
			yield(waasapi.MPCOperation{}, err)
			return
		}
		for _, op := range r.MPCOperations {
			if !yield(op, nil) {
				return
			}
		}
	}
}

// Only yields the given items, for fan-outs over names the caller already
// has (one pool, a list of wallets).
func Only[T any](items ...T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}
