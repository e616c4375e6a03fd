package scan

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type member struct {
	name string
	data []byte
}

func zipOf(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, m := range members {
		f, err := w.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(m.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarGzOf(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, m := range members {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o600, Size: int64(len(m.data)), Typeflag: tar.TypeReg})
		tw.Write(m.data)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func scanIn(t *testing.T, dir string, paths ...string) Result {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	return New(Options{}).Scan(context.Background(), paths)
}

func paths(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}

func TestScanFindsKeysInFoldersAndArchives(t *testing.T) {
	dir := t.TempDir()
	k := newP256(t)
	e := newEd(t)
	keyFile := []byte(keyFileJSON(testName, k.sec1))
	edFile := []byte(`{"id": "` + testKeyID + `", "privateKey": "` + e.b64 + `"}`)
	write(t, filepath.Join(dir, "corpus/app0/.env"), []byte("X=1\nCOINBASE_CLOUD_API_KEY_PRIVATE_KEY=\""+k.sec1+"\"\n"))
	write(t, filepath.Join(dir, "corpus/clean.go"), []byte(filler))
	apk := zipOf(t, member{"AndroidManifest.xml", []byte("<manifest/>")}, member{"assets/.coinbase_cloud_api_key.json", keyFile})
	ipa := zipOf(t, member{"Payload/App.app/main.jsbundle", []byte("var k=" + jsonString(string(edFile)) + ";")})
	write(t, filepath.Join(dir, "corpus/app.apk.bin"), apk) // by content, not by name
	write(t, filepath.Join(dir, "corpus/outer.zip"), zipOf(t, member{"inner/app.ipa", ipa}))
	write(t, filepath.Join(dir, "corpus/release.tgz"), tarGzOf(t, member{"etc/cdp_api_key.json", edFile}))
	d4 := zipOf(t, member{"key.json", keyFile})
	for i := 0; i < 3; i++ {
		d4 = zipOf(t, member{"level.zip", d4})
	}
	write(t, filepath.Join(dir, "corpus/deep4.zip"), d4)
	write(t, filepath.Join(dir, "corpus/traversal.zip"), zipOf(t, member{"../../evil\x1b[31m!.json", keyFile}))
	if err := os.Symlink(filepath.Join(dir, "corpus/app0/.env"), filepath.Join(dir, "corpus/link.env")); err != nil {
		t.Fatal(err)
	}

	res := scanIn(t, dir, "corpus")
	want := []string{
		"corpus/app.apk.bin!assets/.coinbase_cloud_api_key.json",
		"corpus/app0/.env",
		"corpus/deep4.zip!level.zip!level.zip!level.zip!key.json",
		"corpus/outer.zip!inner/app.ipa!Payload/App.app/main.jsbundle",
		"corpus/release.tgz!etc/cdp_api_key.json",
		`corpus/traversal.zip!../../evil\x1b[31m\x21.json`,
	}
	if got := paths(res.Findings); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("found in\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %+v", res.Errors)
	}
	if f := res.Findings[1]; f.Line != 2 || f.Fingerprint != k.fp {
		t.Fatalf(".env finding %+v", f)
	}
	if f := res.Findings[4]; f.KeyName != testKeyID || f.Fingerprint != e.fp {
		t.Fatalf("tgz finding %+v", f)
	}
	// Nothing was extracted.
	if _, err := os.Stat(filepath.Join(dir, "evil")); err == nil {
		t.Fatal("a member was written to disk")
	}
}

func TestScanStopsAtLimitsAndCarriesOn(t *testing.T) {
	dir := t.TempDir()
	k := newP256(t)
	keyFile := []byte(keyFileJSON(testName, k.sec1))
	// A 10-level nested archive: opened to depth 4, then an error.
	deep := zipOf(t, member{"key.json", keyFile})
	for i := 0; i < 9; i++ {
		deep = zipOf(t, member{"n.zip", deep})
	}
	write(t, filepath.Join(dir, "deep10.zip"), deep)
	// A bomb: 64 MiB of zeros compresses to ~64 KiB, past the ratio cap.
	bomb := zipOf(t, member{"zeros", make([]byte, 64<<20)}, member{"after.json", keyFile})
	write(t, filepath.Join(dir, "bomb.zip"), bomb)
	write(t, filepath.Join(dir, "z.env"), keyFile)
	res := scanIn(t, dir, ".")
	// Members of a zip on disk are scanned in parallel: one that a goroutine had finished
	// before the bomb went off may be reported too, and rightly (its key is real).
	got := strings.Join(paths(res.Findings), " ")
	if got != "./z.env" && got != "./bomb.zip!after.json ./z.env" {
		t.Fatalf("findings %v", got)
	}
	var reasons []string
	for _, e := range res.Errors {
		reasons = append(reasons, e.Path+": "+e.Reason)
	}
	all := strings.Join(reasons, "\n")
	if !strings.Contains(all, "./bomb.zip: member ./bomb.zip!zeros expands more than 200:1") ||
		!strings.Contains(all, "./deep10.zip!n.zip!n.zip!n.zip!n.zip: archive nested deeper than 4 levels") {
		t.Fatalf("errors:\n%s", all)
	}
}

func TestScanReadsStdin(t *testing.T) {
	k := newP256(t)
	res := New(Options{Stdin: strings.NewReader("\n\n" + k.sec1)}).Scan(context.Background(), []string{"-"})
	if len(res.Findings) != 1 || res.Findings[0].Path != "-" || res.Findings[0].Line != 3 {
		t.Fatalf("%+v", res)
	}
}

func TestScanFindsAKeyAcrossAChunkBoundaryOnce(t *testing.T) {
	dir := t.TempDir()
	k := newP256(t)
	pad := bytes.Repeat([]byte("x\n"), (chunkSize-100)/2)
	write(t, filepath.Join(dir, "big.txt"), append(append(pad, k.sec1...), bytes.Repeat([]byte("y\n"), chunkSize)...))
	res := scanIn(t, dir, "big.txt")
	if len(res.Findings) != 1 || res.Findings[0].Line != len(pad)/2+1 {
		t.Fatalf("%+v", res.Findings)
	}
}

func TestAllowCommentSuppresses(t *testing.T) {
	dir := t.TempDir()
	k := newP256(t)
	write(t, filepath.Join(dir, "fixture.go"), []byte("// test fixture, waasctl:allow\nconst key = `"+k.sec1+"`\n"))
	res := scanIn(t, dir, "fixture.go")
	if len(res.Findings) != 1 || res.Findings[0].Suppressed != "allow comment" {
		t.Fatalf("%+v", res.Findings)
	}
}

func TestNestedZipsShareOneMemoryBudget(t *testing.T) {
	dir := t.TempDir()
	k := newP256(t)
	inner := zipOf(t, member{"key.json", []byte(keyFileJSON(testName, k.sec1))})
	write(t, filepath.Join(dir, "outer.zip"), zipOf(t, member{"a.zip", zipOf(t, member{"b.zip", inner})}, member{"c.json", []byte(k.sec1)}))
	lim := DefaultLimits
	lim.MaxBuffered, lim.MaxBufferedTotal = 1<<20, 1<<20 // room for one nested zip at a time
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	res := New(Options{Limits: lim}).Scan(context.Background(), []string{"outer.zip"})
	if got := paths(res.Findings); len(got) != 1 || got[0] != "outer.zip!c.json" {
		t.Fatalf("findings %v", got)
	}
	if len(res.Errors) != 1 || res.Errors[0].Path != "outer.zip!a.zip!b.zip" || !strings.Contains(res.Errors[0].Reason, "nested zip not opened: the 1 MiB for archives in memory is in use") {
		t.Fatalf("errors %+v", res.Errors)
	}
	// With room for two, both levels open.
	lim.MaxBufferedTotal = 2 << 20
	res = New(Options{Limits: lim}).Scan(context.Background(), []string{"outer.zip"})
	if len(res.Findings) != 2 || len(res.Errors) != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestScanReadsAZipFromAPipe(t *testing.T) {
	k := newP256(t)
	z := zipOf(t, member{"k.json", []byte(keyFileJSON(testName, k.sec1))})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { w.Write(z); w.Close() }()
	res := New(Options{Stdin: r}).Scan(context.Background(), []string{"-"})
	if len(res.Findings) != 1 || res.Findings[0].Path != "-!k.json" || len(res.Errors) != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestAKeyIsPairedWithANameElsewhereInItsPackage(t *testing.T) {
	dir := t.TempDir()
	e := newEd(t)
	apk := zipOf(t, member{"res/values/strings.xml", []byte(`<string name="cdp_key_name">` + testName + `</string>`)},
		member{"assets/secret.txt", []byte("CDP_API_KEY_SECRET=" + e.b64 + "\n")})
	write(t, filepath.Join(dir, "app.apk"), apk)
	res := scanIn(t, dir, "app.apk")
	if len(res.Findings) != 1 || res.Findings[0].KeyName != testName || res.Findings[0].Path != "app.apk!assets/secret.txt" {
		t.Fatalf("%+v", res.Findings)
	}
}

func TestPathsStartWithThePathAsGiven(t *testing.T) {
	dir := t.TempDir()
	k := newP256(t)
	write(t, filepath.Join(dir, "corpus/app0/.env"), []byte(k.sec1))
	for arg, want := range map[string]string{"corpus": "corpus/app0/.env", "./corpus": "./corpus/app0/.env", "corpus/": "corpus/app0/.env", ".": "./corpus/app0/.env", "corpus/app0/.env": "corpus/app0/.env"} {
		if got := paths(scanIn(t, dir, arg).Findings); len(got) != 1 || got[0] != want {
			t.Errorf("scan %s: %v, want %s", arg, got, want)
		}
	}
}
