package pools

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
)

// Flags become options, as gh's TestNewCmdList tables check: what each flag and argument sets,
// and the usage error (exit 2) a bad one gets before any request is sent.

func TestNewCmdList(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	if got, err := clitest.ParseFlags(t, env, NewCmdList); err != nil || got.APIClient == nil {
		t.Fatalf("options %+v, err %v", got, err)
	}
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"retail"}, `unexpected argument "retail" for "list"`},
		{[]string{"--all"}, "unknown flag: --all"},
	} {
		_, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdList), tc.args...)
		clitest.WantUsageError(t, tc.args, err, tc.wantErr)
	}
}

func TestNewCmdGet(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		args     []string
		wantName string
		wantErr  string
	}{
		{args: []string{"retail"}, wantName: "pools/retail"},
		{args: []string{"pools/retail"}, wantName: "pools/retail"},
		{args: nil, wantErr: "pools get needs a pool name, e.g. pools/ID"},
		{args: []string{"retail", "eu"}, wantErr: `unexpected argument "eu" for "get"`},
	} {
		got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdGet), tc.args...)
		if tc.wantErr != "" {
			clitest.WantUsageError(t, tc.args, err, tc.wantErr)
			continue
		}
		if err != nil || got.Name != tc.wantName {
			t.Errorf("%q: options %+v, err %v; want name %q", tc.args, got, err, tc.wantName)
		}
	}
}

func TestNewCmdCreate(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		args             []string
		wantName, wantID string
		wantErr          string
	}{
		{args: []string{"Retail customers"}, wantName: "Retail customers"},
		{args: []string{"  Retail  "}, wantName: "Retail"},
		{args: []string{"Retail customers", "--id", "retail"}, wantName: "Retail customers", wantID: "retail"},
		{args: nil, wantErr: "pools create needs a display name"},
		{args: []string{"  "}, wantErr: "the display name must not be empty"},
		{args: []string{"Retail", "customers"}, wantErr: `unexpected argument "customers" for "create"`},
		{args: []string{"Retail", "--id"}, wantErr: "flag needs an argument: --id"},
	} {
		got, err := clitest.ParseFlags(t, env, clitest.AsSubcommand(NewCmdCreate), tc.args...)
		if tc.wantErr != "" {
			clitest.WantUsageError(t, tc.args, err, tc.wantErr)
			continue
		}
		if err != nil || got.DisplayName != tc.wantName || got.ID != tc.wantID {
			t.Errorf("%q: options %+v, err %v; want display name %q, ID %q", tc.args, got, err, tc.wantName, tc.wantID)
		}
	}
}
