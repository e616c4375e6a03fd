// Package reconcile compares what WaaS holds with what the middle tier's
// ledger says it created: pending MPC operations nobody in the middle tier
// initiated (a leaked key's signing spam), and wallets and device groups
// someone else created or the ledger lost. See docs/architecture.md, "Reconciliation".
package reconcile

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// Kind is a kind of resource a ledger records.
type Kind string

// The kinds a ledger records.
const (
	Operation   Kind = "operation"
	Wallet      Kind = "wallet"
	DeviceGroup Kind = "device_group"
)

// Kinds lists every kind, in report order.
var Kinds = []Kind{Operation, Wallet, DeviceGroup}

// ParseKind accepts the spellings a middle tier's schema might use.
func ParseKind(s string) (Kind, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "operation", "operations", "mpc_operation", "mpcoperation", "mpc_operations":
		return Operation, true
	case "wallet", "wallets", "mpc_wallet", "mpcwallet", "mpc_wallets":
		return Wallet, true
	case "device_group", "device_groups", "devicegroup", "devicegroups", "device-group", "device-groups":
		return DeviceGroup, true
	}
	return "", false
}

// Plural is the kind's name in messages ("wallets").
func (k Kind) Plural() string {
	switch k {
	case Operation:
		return "operations"
	case Wallet:
		return "wallets"
	case DeviceGroup:
		return "device groups"
	}
	return string(k)
}

// shape is the collection path of a kind's full resource name.
func (k Kind) shape() []string {
	switch k {
	case Operation:
		return []string{"pools", "", "deviceGroups", "", "mpcOperations", ""}
	case Wallet:
		return []string{"pools", "", "mpcWallets", ""}
	case DeviceGroup:
		return []string{"pools", "", "deviceGroups", ""}
	}
	return nil
}

func (k Kind) example() string {
	return strings.ReplaceAll(strings.Join(k.shape(), "/"), "//", "/ID/") + "ID"
}

// Name is a normalised resource name: the full name when the ledger or
// WaaS gave one, and always the resource's own ID (its last segment).
type Name struct {
	Full string // "" when the ledger stored the bare ID
	ID   string
}

// Pool is "pools/P" for a full name, "" for a bare ID.
func (n Name) Pool() string {
	if n.Full == "" {
		return ""
	}
	return waasapi.PoolOf(n.Full)
}

// String is the full name when known, else the ID.
func (n Name) String() string {
	if n.Full != "" {
		return n.Full
	}
	return n.ID
}

// Normalize turns what a ledger stored into a Name of kind k: surrounding
// space and slashes go, UUID segments are lowercased (a database may
// print them upper case), and the value must be the kind's full resource
// name or a bare UUID, the form WaaS gives every wallet, device group and
// operation. Anything else (an integer key, an e-mail address, a wallet
// name in the operations column) is an error, because a ledger column that
// holds the wrong thing would otherwise make every resource look unknown.
func Normalize(k Kind, raw string) (Name, error) {
	s := strings.Trim(strings.TrimSpace(raw), "/")
	if s == "" {
		return Name{}, fmt.Errorf("empty %s name", k)
	}
	if !strings.Contains(s, "/") {
		id, ok := normalUUID(s)
		if !ok {
			return Name{}, fmt.Errorf("%q is not %s: want %s or a bare ID (a UUID)", clip(raw), article(k), k.example())
		}
		return Name{ID: id}, nil
	}
	segs := strings.Split(s, "/")
	shape := k.shape()
	if len(segs) != len(shape) {
		return Name{}, fmt.Errorf("%q is not %s: want %s or a bare ID (a UUID)", clip(raw), article(k), k.example())
	}
	for i, want := range shape {
		switch {
		case want != "" && segs[i] != want:
			return Name{}, fmt.Errorf("%q is not %s: want %s or a bare ID (a UUID)", clip(raw), article(k), k.example())
		case want == "" && (segs[i] == "" || segs[i] == "." || segs[i] == ".." || strings.ContainsAny(segs[i], " \t?#%\\")):
			return Name{}, fmt.Errorf("%q is not %s: segment %d is empty, a dot segment, or has spaces or ?#%%\\", clip(raw), article(k), i+1)
		case want == "":
			if id, ok := normalUUID(segs[i]); ok {
				segs[i] = id
			}
		}
	}
	full := strings.Join(segs, "/")
	return Name{Full: full, ID: segs[len(segs)-1]}, nil
}

func article(k Kind) string {
	switch k {
	case Operation:
		return "an MPC operation name"
	case Wallet:
		return "an MPC wallet name"
	}
	return "a device group name"
}

// normalUUID lowercases s if it is a UUID in the 8-4-4-4-12 form.
func normalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// clip keeps error messages one short line whatever a ledger holds.
func clip(s string) string {
	const max = 160
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
