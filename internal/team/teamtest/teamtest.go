// Package teamtest gives tests a fresh team database on the throwaway PostgreSQL server of
// scripts/with-postgres.sh.
package teamtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"
	"github.com/waasctl/waasctl/internal/sandbox/sandboxtest"
	"github.com/waasctl/waasctl/internal/team"
)

// NewDatabase creates an empty database on the test server, dropped when the test ends, and
// returns its DSN. Without a server it skips the test, or fails it under
// WAASCTL_REQUIRE_POSTGRES=1 (sandboxtest.PostgresDSN).
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := sandboxtest.PostgresDSN(t)
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "waasctl_team_" + hex.EncodeToString(suffix)
	dsn, err := CreateDatabase(context.Background(), admin, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := DropDatabase(context.Background(), admin, name); err != nil {
			t.Logf("dropping database %s: %v", name, err)
		}
	})
	return dsn
}

// CreateDatabase creates database name on the server of adminDSN (replacing one of that name)
// and returns its DSN.
func CreateDatabase(ctx context.Context, adminDSN, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	u, err := url.Parse(adminDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("teamtest: the admin DSN must be a postgres:// URL")
	}
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	db := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return "", err
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), nil
}

// DropDatabase drops database name, ending its sessions.
func DropDatabase(ctx context.Context, adminDSN, name string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// NewIdentity makes an age identity in memory and returns it with its private half (for
// canary searches and WAASCTL_AGE_IDENTITY).
func NewIdentity(t testing.TB) (*team.Identity, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	out, err := team.ParseIdentity(id.String(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return out, id.String()
}
