package reconcile

import (
	"iter"
	"testing"

	"github.com/waasctl/waasctl/internal/testctx"
)

// An operations audit says whether an unknown operation's device group is in the ledger only
// when the ledger records device groups: a file with no device_group row says nothing about
// them, so the column stays empty rather than claiming "not in the ledger" for every group.
func TestUnknownOperationsClaimNothingAboutGroupsALedgerDoesNotRecord(t *testing.T) {
	const other = "pools/p1/deviceGroups/11111111-2222-4333-8444-555555555555"
	unknownOp := grp + "/mpcOperations/0e0e0e0e-1111-4222-8333-444444444444"
	groups := func() iter.Seq2[GroupOperations, error] {
		return func(yield func(GroupOperations, error) bool) {
			yield(GroupOperations{DeviceGroup: grp, Wallet: wal, Operations: []PendingOperation{
				{Name: op, Kind: "CreateSignature"}, {Name: unknownOp, Kind: "CreateSignature"},
			}}, nil)
		}
	}
	for _, tc := range []struct {
		name, ledger string
		want         string // the unknown operation's DeviceGroupInLedger
	}{
		{"no device group rows", "kind,name,owner\noperation," + op + ",alice\n", "unset"},
		{"another group recorded", "kind,name,owner\noperation," + op + ",alice\ndevice_group," + other + ",alice\n", "false"},
		{"its group recorded", "kind,name,owner\noperation," + op + ",alice\ndevice_group," + grp + ",alice\n", "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testctx.New(t)
			l, err := Open(ctx, Spec{Source: writeFile(t, "ledger.csv", tc.ledger)})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			rep, err := ReconcileOperations(ctx, l, "all", groups(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Pending != 2 || rep.Known != 1 || len(rep.Unknown) != 1 || rep.Unknown[0].Operation != unknownOp {
				t.Fatalf("%d pending, %d known, unknown %+v; want 2, 1 and %s", rep.Pending, rep.Known, rep.Unknown, unknownOp)
			}
			got := "unset"
			if in := rep.Unknown[0].DeviceGroupInLedger; in != nil {
				got = map[bool]string{true: "true", false: "false"}[*in]
			}
			if got != tc.want {
				t.Fatalf("device group in ledger: %s, want %s", got, tc.want)
			}
		})
	}
}
