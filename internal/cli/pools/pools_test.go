package pools

import (
	"testing"

	"github.com/waasctl/waasctl/internal/cli/clitest"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
)

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
	stdout, stderr, err := env.Run(t, NewCmdGet(env.Factory, nil), firstPool(t, env))
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	clitest.Golden(t, "get_tty.golden", stdout)
}

func TestPoolsGet_nontty(t *testing.T) {
	env := clitest.New(t, clitest.SeededEstate())
	stdout, stderr, err := env.Run(t, NewCmdGet(env.Factory, nil), firstPool(t, env))
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
