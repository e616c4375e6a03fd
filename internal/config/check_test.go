package config

import (
	"strings"
	"testing"
)

func TestCheckNamesEveryProblemWithItsPosition(t *testing.T) {
	data := []byte(`profiles:
  prod:
    endpoint: https://api.developer.coinbase.com
    isuer: {type: exec}
    sinks:
      - {type: envfile}
      - type: exec
        path: /x
      - {type: s3, path: /y}
    policy: {max_age: ninety, grace: 24h}
    quota: {pools: lots}
  dev:
    issuer: {type: exec}
    insecure_http: maybe
`)
	var got []string
	for _, p := range Check(data) {
		got = append(got, p.String())
	}
	want := []string{
		`line 4, column 5: profiles.prod.isuer: unknown key "isuer"; known here: endpoint, issuer, sinks, policy, quota, ledger, insecure_http, state, no_adapt`,
		`line 11, column 20: profiles.prod.quota.pools: want a whole number, not text "lots"`,
		`line 14, column 20: profiles.dev.insecure_http: want true or false, not text "maybe"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Once the types are right, what cannot work is named, in file order.
	data = []byte(`profiles:
  prod:
    endpoint: api.developer.coinbase.com
    sinks:
      - {type: envfile}
      - type: exec
        path: /x
      - {type: s3, path: /y}
    policy: {max_age: ninety, grace: 0h}
  dev:
    issuer: {type: exec}
`)
	got = nil
	for _, p := range Check(data) {
		got = append(got, p.String())
	}
	want = []string{
		`line 3, column 15: profiles.prod.endpoint: want an http(s):// URL, e.g. https://api.developer.coinbase.com`,
		`line 5, column 9: profiles.prod.sinks[0]: an envfile sink needs its path: waasctl config set profiles.prod.sinks[0].path FILE`,
		`line 6, column 9: profiles.prod.sinks[1]: an exec sink needs its command: waasctl config set profiles.prod.sinks[1].command PROGRAM [ARG...]`,
		`line 6, column 9: profiles.prod.sinks[1]: path, follow_symlinks and allow_other_owner are settings of an envfile sink, not of an exec one`,
		`line 8, column 16: profiles.prod.sinks[2].type: type "s3": want one of envfile, exec`,
		`line 9, column 23: profiles.prod.policy.max_age: duration "ninety": want e.g. 90d, 24h or 1d12h, at most 3650d`,
		`line 11, column 13: profiles.dev.issuer: an exec issuer needs its command: waasctl config set profiles.dev.issuer.command PROGRAM [ARG...]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCheckSyntaxErrorLine(t *testing.T) {
	data := []byte("profiles:\n  prod:\n    endpoint: https://x\n   issuer: {type: sandbox}\n")
	ps := Check(data)
	if len(ps) != 1 || ps[0].Line != 4 || !strings.HasPrefix(ps[0].Message, "YAML syntax: ") {
		t.Fatalf("%+v", ps)
	}
	if ps := Check([]byte("")); len(ps) != 0 {
		t.Fatalf("empty file: %v", ps)
	}
}

// The state section is checked as the commands read it, top level and per profile, and is
// settable like any other key.
func TestCheckAndSetState(t *testing.T) {
	data := []byte("state: {backend: postgres}\nprofiles:\n  prod:\n    state: {backend: s3, dsn: x}\n")
	var got []string
	for _, p := range Check(data) {
		got = append(got, p.String())
	}
	want := []string{
		"line 1, column 8: state: state.backend is postgres but state.dsn is empty: set it, or export WAASCTL_STATE_DSN",
		"line 4, column 12: profiles.prod.state: profiles.prod.state.backend must be local or postgres",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for key, typ := range map[string]string{"state.backend": "string", "profiles.prod.state.dsn": "string"} {
		p, _ := ParseKeyPath(key)
		if tt, ok := SettingType(p); !ok || tt.String() != typ {
			t.Errorf("SettingType(%s) = %v, %v", key, tt, ok)
		}
	}
}

// Pinned team recipients that team mode would refuse are reported with their position.
func TestCheckReportsBadPins(t *testing.T) {
	const key = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	data := []byte("state:\n  recipients:\n    alice: " + key + "\n    bob: AGE-SECRET-KEY-1XYZ\n    carol: " + key + "\n")
	var got []string
	for _, p := range Check(data) {
		got = append(got, p.String())
	}
	want := []string{
		`line 4, column 10: state.recipients.bob: not an age public key: want the age1... that the member's 'waasctl team identity new' printed`,
		`line 5, column 12: state.recipients.carol: the same key as alice: pin each member once`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
