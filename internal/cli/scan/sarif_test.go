package scan

import (
	"encoding/json"
	"testing"

	"github.com/waasctl/waasctl/internal/scan"
)

// The SARIF log has what the 2.1.0 schema requires and GitHub code scanning reads: version,
// runs[].tool.driver.name, results with ruleId, message.text and a physical location with a
// relative URI reference and a line. (Checked against the OASIS schema itself with a JSON
// Schema validator when this was written; the schema is not vendored here.)
func TestSARIFShape(t *testing.T) {
	data, err := sarifReport([]scan.Finding{
		{Path: "./build/app.zip!Payload/My App.app/main.jsbundle", Line: 7, Kind: scan.KindWaaSP256, Fingerprint: "SHA256:abc", KeyName: "organizations/o/apiKeys/k", Live: true, Profile: "prod", Slot: "CURRENT"},
		{Path: "-", Line: 0, Kind: scan.KindCDPEd25519, Fingerprint: "SHA256:def", Commit: "0123"},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID  string `json:"ruleId"`
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name == "" || len(log.Runs[0].Tool.Driver.Rules) != 3 {
		t.Fatalf("%s", data)
	}
	r := log.Runs[0].Results
	if len(r) != 2 || r[0].RuleID != scan.KindWaaSP256 || r[0].Level != "error" ||
		r[0].Message.Text != "waas-p256 key SHA256:abc (organizations/o/apiKeys/k); live: profile prod's CURRENT key" {
		t.Fatalf("%s", data)
	}
	loc := r[0].Locations[0].PhysicalLocation
	if loc.ArtifactLocation.URI != "build/app.zip!Payload/My%20App.app/main.jsbundle" || loc.Region.StartLine != 7 {
		t.Fatalf("%+v", loc)
	}
	if r[1].Locations[0].PhysicalLocation.Region.StartLine != 1 || r[1].Message.Text != "cdp-ed25519 key SHA256:def; in commit 0123" {
		t.Fatalf("%s", data)
	}
}
