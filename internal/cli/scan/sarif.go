package scan

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/waasctl/waasctl/internal/scan"
)

// SARIF 2.1.0, as GitHub code scanning reads it: one run, one rule per kind, one result per
// finding. A path inside an archive keeps its outer!inner form in the URI's fragment-free
// text, percent-encoded as a URI reference requires.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

// sarifInvocation says whether the scan was complete, and if not, what it could not read.
type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"` // "inSource" (an allow comment) or "external"
	Justification string `json:"justification"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	Name             string       `json:"name"`
	ShortDescription sarifMessage `json:"shortDescription"`
	Help             sarifMessage `json:"help"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	// Properties are the finding's fields as -o json gives them.
	Properties map[string]any `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

var sarifRules = []sarifRule{
	{ID: scan.KindWaaSP256, Name: "LeakedWaaSKey", ShortDescription: sarifMessage{"WaaS / CDP ECDSA P-256 API key private key"},
		Help: sarifMessage{"Revoke the key (waasctl keys revoke PROFILE --rotate-first) and remove it from the file and its history."}},
	{ID: scan.KindCDPEd25519, Name: "LeakedCDPKey", ShortDescription: sarifMessage{"CDP Ed25519 API key secret"},
		Help: sarifMessage{"Revoke the key in the CDP portal and remove it from the file and its history."}},
	{ID: scan.KindOtherPrivateKey, Name: "PrivateKey", ShortDescription: sarifMessage{"A private key that is not a WaaS/CDP key"},
		Help: sarifMessage{"Check whether this private key should be in the repository."}},
}

// sarifURI makes a path a relative URI reference: slashes kept, everything else outside the
// unreserved set (and '!' of archive paths) percent-encoded.
func sarifURI(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~/!", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return strings.TrimPrefix(b.String(), "./")
}

// sarifReport is the SARIF log of a scan: the findings shown, those suppressed (listed with
// --verbose, as SARIF suppressions), and what could not be scanned.
func sarifReport(findings, suppressed []scan.Finding, errs []scan.ScanError) ([]byte, error) {
	results := []sarifResult{}
	for _, f := range append(append([]scan.Finding{}, findings...), suppressed...) {
		msg := fmt.Sprintf("%s key %s", f.Kind, f.Fingerprint)
		if f.KeyName != "" {
			msg += " (" + f.KeyName + ")"
		}
		if f.Live {
			msg += fmt.Sprintf("; live: profile %s's %s key", f.Profile, f.Slot)
		}
		if f.Commit != "" {
			msg += "; in commit " + f.Commit
		}
		props, err := recordProperties(findingRecord(f))
		if err != nil {
			return nil, err
		}
		r := sarifResult{
			RuleID: f.Kind, Level: "error", Message: sarifMessage{msg},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: sarifURI(f.Path)},
				Region:           &sarifRegion{StartLine: max(f.Line, 1)},
			}}},
			PartialFingerprints: map[string]string{"waasctlKey/v1": f.Fingerprint},
			Properties:          props,
		}
		if f.Suppressed != "" {
			kind := "external"
			if f.Suppressed == "allow comment" {
				kind = "inSource"
			}
			r.Suppressions = []sarifSuppression{{Kind: kind, Justification: f.Suppressed}}
		}
		results = append(results, r)
	}
	inv := sarifInvocation{ExecutionSuccessful: len(errs) == 0}
	for _, e := range errs {
		n := sarifNotification{Level: "error", Message: sarifMessage{e.Reason}}
		if e.Path != "" {
			n.Locations = []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: sarifURI(e.Path)}}}}
		}
		inv.Notifications = append(inv.Notifications, n)
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool:        sarifTool{Driver: sarifDriver{Name: "waasctl scan", InformationURI: "https://github.com/waasctl/waasctl/blob/main/docs/scan.md", Rules: sarifRules}},
			Invocations: []sarifInvocation{inv},
			Results:     results,
		}},
	}
	data, err := json.MarshalIndent(log, "", "  ")
	return append(data, '\n'), err
}

// recordProperties is a finding's JSON record, without its "type", as a SARIF property bag.
func recordProperties(r FindingRecord) (map[string]any, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "type")
	return m, nil
}
