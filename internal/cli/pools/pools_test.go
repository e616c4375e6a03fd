package pools

import (
	"context"
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

// Flags and arguments become options; bad ones are refused before any call.
func TestNewCmdCreate(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	for _, tc := range []struct {
		args    []string
		want    CreateOptions
		wantErr string
	}{
		{[]string{"Retail"}, CreateOptions{DisplayName: "Retail"}, ""},
		{[]string{"  Retail customers ", "--id", "retail"}, CreateOptions{DisplayName: "Retail customers", ID: "retail"}, ""},
		{[]string{"   "}, CreateOptions{}, "the display name must not be empty"},
		{nil, CreateOptions{}, "pools create needs a display name"},
		{[]string{"a", "b"}, CreateOptions{}, `unexpected argument "b" for "create"`},
	} {
		var got *CreateOptions
		cmd := NewCmdCreate(env.Factory, func(_ context.Context, o *CreateOptions) error { got = o; return nil })
		_, _, err := env.Run(t, cmd, tc.args...)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q: err %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got == nil || got.DisplayName != tc.want.DisplayName || got.ID != tc.want.ID {
			t.Errorf("%q: options %+v, err %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	if n := env.Sandbox.RequestCounts(); len(n) != 0 {
		t.Errorf("flag parsing called WaaS: %v", n)
	}
}

func TestNewCmdList(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	called := false
	cmd := NewCmdList(env.Factory, func(context.Context, *ListOptions) error { called = true; return nil })
	if _, _, err := env.Run(t, cmd); err != nil || !called {
		t.Fatalf("err %v, run called %v", err, called)
	}
	cmd = NewCmdList(env.Factory, func(context.Context, *ListOptions) error { t.Error("run with an argument"); return nil })
	if _, _, err := env.Run(t, cmd, "extra"); err == nil {
		t.Error("an argument was accepted")
	}
}

func TestPoolsList_tty(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate()).Terminal()
	stdout, stderr, err := env.Run(t, NewCmdList(env.Factory, nil))
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	clitest.Golden(t, "list_tty.golden", stdout)
}

func TestPoolsList_nontty(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	stdout, stderr, err := env.Run(t, NewCmdList(env.Factory, nil))
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	clitest.Golden(t, "list_nontty.golden", stdout)
}

func TestPoolsList_json(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate()).Output(cmdutil.OutputJSON)
	stdout, _, err := env.Run(t, NewCmdList(env.Factory, nil))
	if err != nil {
		t.Fatal(err)
	}
	clitest.Golden(t, "list.json.golden", stdout)
}

func TestPoolsGet_tty(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate()).Terminal()
	stdout, stderr, err := env.Run(t, NewCmdGet(env.Factory), firstPool(t, env))
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	clitest.Golden(t, "get_tty.golden", stdout)
}

func TestPoolsGet_nontty(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	stdout, stderr, err := env.Run(t, NewCmdGet(env.Factory), firstPool(t, env))
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	clitest.Golden(t, "get_nontty.golden", stdout)
}

func TestPoolsCreate_tty(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate()).Terminal()
	stdout, stderr, err := env.Run(t, NewCmdCreate(env.Factory, nil), "Retail customers", "--id", "retail")
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	clitest.Golden(t, "create_tty.golden", stdout)
	if n := env.Sandbox.RequestCounts()["POST /waas/pools/v1/pools"]; n != 1 {
		t.Errorf("%d CreatePool requests, want 1", n)
	}
}

func firstPool(t *testing.T, env *clitest.Env) string {
	t.Helper()
	inv := env.Sandbox.Inventory()
	if len(inv.Pools) == 0 {
		t.Fatal("the seeded estate has no pool")
	}
	return inv.Pools[0]
}
