// Command scan-corpus builds the corpus of the scan benchmark (scripts/bench/scan.sh) and
// scores scanners' reports against it.
//
//	scan-corpus gen -out DIR [-filler DIR] [-per 6] [-seed 1]
//	scan-corpus score -truth DIR/truth.json -waasctl report.jsonl | -gitleaks report.json
//
// gen copies real source files (Go's own standard library, by default) into DIR/src as
// filler, then plants keys in every encoding the scanner claims, each in a file of its own
// amid real source text, and decoys (placeholders, public keys, truncated keys, Ed25519
// secrets whose public half is wrong), also one a file. truth.json lists every planted file
// with its encoding and fingerprint. The keys are generated here and never valid anywhere.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io/fs"
	"math/big"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"unicode/utf16"

	"github.com/google/uuid"
	"github.com/waasctl/waasctl/internal/credentials"
)

// Planted is one file of the corpus that holds a key or a decoy.
type Planted struct {
	Path        string `json:"path"` // as a scanner of DIR reports it: DIR/..., outer!inner for members
	Encoding    string `json:"encoding"`
	Fingerprint string `json:"fingerprint,omitempty"` // empty for a decoy
	Decoy       bool   `json:"decoy,omitempty"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: scan-corpus gen|score ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "gen":
		gen(os.Args[2:])
	case "score":
		score(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "usage: scan-corpus gen|score ...")
		os.Exit(2)
	}
}

type corpus struct {
	out     string
	rnd     *mrand.Rand
	fillers []string // paths of filler files to borrow text from
	truth   []Planted
	n       int
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "scan-corpus:", err)
		os.Exit(1)
	}
}

func gen(args []string) {
	fl := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fl.String("out", "", "corpus folder (created)")
	filler := fl.String("filler", filepath.Join(runtime.GOROOT(), "src"), "folder of real source files to use as filler")
	per := fl.Int("per", 6, "keys planted per encoding")
	seed := fl.Uint64("seed", 1, "seed of the layout (the keys themselves are random)")
	fl.Parse(args)
	if *out == "" {
		check(fmt.Errorf("-out is required"))
	}
	c := &corpus{out: *out, rnd: mrand.New(mrand.NewPCG(*seed, 2))}
	// Filler: every regular file of -filler, copied.
	check(filepath.WalkDir(*filler, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(*filler, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(*out, "src", rel)
		check(os.MkdirAll(filepath.Dir(dst), 0o755))
		if strings.HasSuffix(p, ".go") && len(data) > 2000 && len(data) < 200000 {
			c.fillers = append(c.fillers, p)
		}
		return os.WriteFile(dst, data, 0o644)
	}))
	for _, enc := range encodings {
		for i := 0; i < *per; i++ {
			c.plant(enc)
		}
	}
	for _, d := range decoys {
		for i := 0; i < *per; i++ {
			c.decoy(d)
		}
	}
	sort.Slice(c.truth, func(i, j int) bool { return c.truth[i].Path < c.truth[j].Path })
	data, _ := json.MarshalIndent(c.truth, "", "  ")
	check(os.WriteFile(filepath.Join(*out, "truth.json"), data, 0o644))
	// truth.json is not part of what is scanned: the scripts scan DIR/src and DIR/planted.
	fmt.Fprintf(os.Stderr, "scan-corpus: %d keys and decoys planted in %s\n", len(c.truth), *out)
}

// fill returns real source text with s inserted at a line boundary in its middle.
func (c *corpus) fill(s string) []byte {
	data, err := os.ReadFile(c.fillers[c.rnd.IntN(len(c.fillers))])
	check(err)
	mid := bytes.IndexByte(data[len(data)/2:], '\n') + len(data)/2 + 1
	return append(append(append([]byte{}, data[:mid]...), s...), data[mid:]...)
}

func (c *corpus) path(ext string) (abs, rel string) {
	c.n++
	rel = filepath.Join("planted", fmt.Sprintf("app%d", c.n%20), fmt.Sprintf("f%03d%s", c.n, ext))
	return filepath.Join(c.out, rel), rel
}

func (c *corpus) write(rel string, data []byte) {
	abs := filepath.Join(c.out, rel)
	check(os.MkdirAll(filepath.Dir(abs), 0o755))
	check(os.WriteFile(abs, data, 0o644))
}

type keyText struct {
	sec1, pkcs8, name  string // PEMs and the key's name
	edB64, edPKCS8, id string
	fp, edFP           string
}

func newKeys() keyText {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	der, _ := x509.MarshalECPrivateKey(k)
	p8, _ := x509.MarshalPKCS8PrivateKey(k)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	check(err)
	edp8, _ := x509.MarshalPKCS8PrivateKey(priv)
	return keyText{
		sec1:  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})),
		pkcs8: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
		name:  "organizations/" + uuid.NewString() + "/apiKeys/" + uuid.NewString(),
		edB64: base64.StdEncoding.EncodeToString(priv), edPKCS8: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edp8})),
		id: uuid.NewString(), fp: credentials.Fingerprint(&k.PublicKey), edFP: credentials.Fingerprint(pub),
	}
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func keyFile(name, priv string) string {
	return `{"name": "` + strings.ReplaceAll(name, "/", `\/`) + `", "privateKey": ` + jsonString(priv) + `}`
}

func utf16LE(s string) []byte {
	b := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

type member struct {
	name string
	data []byte
}

func zipOf(ms ...member) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, m := range ms {
		f, err := w.Create(m.name)
		check(err)
		f.Write(m.data)
	}
	check(w.Close())
	return buf.Bytes()
}

func tarGz(ms ...member) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, m := range ms {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg})
		tw.Write(m.data)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// An encoding writes one planted file (or archive) and says where the key is and which one.
type encoding struct {
	name  string
	plant func(c *corpus, k keyText) (rel string, member string, fp string)
}

func text(ext string, body func(k keyText) (string, bool)) func(c *corpus, k keyText) (string, string, string) {
	return func(c *corpus, k keyText) (string, string, string) {
		s, ed := body(k)
		_, rel := c.path(ext)
		c.write(rel, c.fill("\n"+s+"\n"))
		if ed {
			return rel, "", k.edFP
		}
		return rel, "", k.fp
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	return b.String() + s
}

// unpadded is the key's Ed25519 secret in base64 without its padding.
func unpadded(k keyText) string { return strings.TrimRight(k.edB64, "=") }

func jsConcat(pemText string) string {
	lines := strings.Split(strings.TrimSpace(pemText), "\n")
	for i, l := range lines {
		lines[i] = `  "` + l + `\n"`
	}
	return "const key =\n" + strings.Join(lines, " +\n") + ";\n"
}

var encodings = []encoding{
	{"pem-sec1", text(".pem", func(k keyText) (string, bool) { return k.sec1, false })},
	{"pem-crlf", text(".txt", func(k keyText) (string, bool) { return strings.ReplaceAll(k.sec1, "\n", "\r\n"), false })},
	{"pem-lowercase-header", text(".txt", func(k keyText) (string, bool) {
		return strings.Replace(strings.Replace(k.sec1, "BEGIN EC PRIVATE KEY", "begin ec private key", 1), "END EC PRIVATE KEY", "end ec private key", 1), false
	})},
	{"pem-ecdsa-label", text(".txt", func(k keyText) (string, bool) {
		return strings.ReplaceAll(k.sec1, "EC PRIVATE KEY", "ECDSA Private Key"), false
	})},
	{"pkcs8", text(".pem", func(k keyText) (string, bool) { return k.pkcs8, false })},
	{"keyfile-json", text(".json", func(k keyText) (string, bool) { return keyFile(k.name, k.sec1), false })},
	{"keyfile-pretty", text(".json", func(k keyText) (string, bool) {
		b, _ := json.MarshalIndent(map[string]string{"name": k.name, "privateKey": k.sec1}, "", "  ")
		return string(b), false
	})},
	{"json-in-json", text(".json", func(k keyText) (string, bool) {
		return `{"secret": ` + jsonString(keyFile(k.name, k.sec1)) + `}`, false
	})},
	{"dotenv-multiline", text(".env", func(k keyText) (string, bool) {
		return "COINBASE_CLOUD_API_KEY_NAME=" + k.name + "\nCOINBASE_CLOUD_API_KEY_PRIVATE_KEY=\"" + k.sec1 + "\"", false
	})},
	{"dotenv-escaped", text(".env", func(k keyText) (string, bool) {
		return "COINBASE_PRIVATE_KEY=\"" + strings.ReplaceAll(k.sec1, "\n", `\n`) + "\"", false
	})},
	{"yaml-block", text(".yaml", func(k keyText) (string, bool) {
		return "cdp:\n  name: " + k.name + "\n  private_key: |\n    " + strings.ReplaceAll(strings.TrimSpace(k.sec1), "\n", "\n    "), false
	})},
	{"js-concat", text(".js", func(k keyText) (string, bool) { return jsConcat(k.sec1), false })},
	{"base64-keyfile", text(".txt", func(k keyText) (string, bool) {
		return "KEY_B64=" + base64.StdEncoding.EncodeToString([]byte(keyFile(k.name, k.sec1))), false
	})},
	{"base64-of-base64", text(".txt", func(k keyText) (string, bool) {
		return "blob: " + base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte(k.pkcs8)))), false
	})},
	{"url-encoded", text(".txt", func(k keyText) (string, bool) { return "https://example.test/cb?key=" + url.QueryEscape(k.sec1), false })},
	{"utf16le", func(c *corpus, k keyText) (string, string, string) {
		_, rel := c.path(".json")
		c.write(rel, utf16LE(string(c.fill(keyFile(k.name, k.sec1)))))
		return rel, "", k.fp
	}},
	{"ed25519-keyfile", text(".json", func(k keyText) (string, bool) {
		return `{"id": "` + k.id + `", "privateKey": "` + k.edB64 + `"}`, true
	})},
	{"ed25519-dotenv", text(".env", func(k keyText) (string, bool) {
		return "CDP_API_KEY_ID=" + k.id + "\nCDP_API_KEY_SECRET=" + k.edB64, true
	})},
	{"ed25519-base64-keyfile", text(".txt", func(k keyText) (string, bool) {
		return "CDP=" + base64.StdEncoding.EncodeToString([]byte(`{"id": "`+k.id+`", "privateKey": "`+k.edB64+`"}`)), true
	})},
	{"ed25519-pkcs8", text(".pem", func(k keyText) (string, bool) { return "# CDP API key\n" + k.edPKCS8, true })},
	{"base64-pem-yaml-block", text(".yaml", func(k keyText) (string, bool) {
		return "apiVersion: v1\nkind: Secret\ndata:\n  key.pem: |\n    " + strings.ReplaceAll(wrap(base64.StdEncoding.EncodeToString([]byte(k.sec1)), 64), "\n", "\n    "), false
	})},
	{"base64-escaped-pem-json", text(".json", func(k keyText) (string, bool) {
		return `{"key": "` + base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(k.sec1, "\n", `\n`))) + `"}`, false
	})},
	{"unarmored-der-json", text(".json", func(k keyText) (string, bool) {
		b, _ := pem.Decode([]byte(k.sec1))
		return `{"name": "` + k.name + `", "privateKey": "` + base64.StdEncoding.EncodeToString(b.Bytes) + `"}`, false
	})},
	{"base64-utf16", text(".txt", func(k keyText) (string, bool) {
		return "blob=" + base64.StdEncoding.EncodeToString(utf16LE(k.pkcs8)), false
	})},
	{"ed25519-unpadded", text(".env", func(k keyText) (string, bool) {
		return "CDP_API_KEY_ID=" + k.id + "\nCDP_API_KEY_SECRET=" + strings.TrimRight(k.edB64, "="), true
	})},
	// Unpadded secrets in the forms of issue 14: a property list in an IPA, a wrapped value
	// with a short first piece or over many lines, \n escapes and string concatenation
	// between pieces, values named by the element around them.
	{"ed25519-plist-ipa", func(c *corpus, k keyText) (string, string, string) {
		_, rel := c.path(".ipa")
		plist := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\t<key>cdp_api_key_id</key>\n\t<string>" + k.id + "</string>\n\t<key>cdp_api_key_secret</key>\n\t<string>" + unpadded(k) + "</string>\n</dict>\n</plist>\n"
		c.write(rel, zipOf(member{"Payload/App.app/Info.plist", []byte("<plist/>")}, member{"Payload/App.app/main.jsbundle", c.fill("")}, member{"Payload/App.app/Keys.plist", []byte(plist)}))
		return rel, "Payload/App.app/Keys.plist", k.edFP
	}},
	{"ed25519-wrapped-short-first", text(".yaml", func(k keyText) (string, bool) {
		s := unpadded(k)
		return "cdp:\n  api_key_id: " + k.id + "\n  api_key_secret: " + s[:12] + "\n    " + s[12:52] + "\n    " + s[52:], true
	})},
	{"ed25519-wrapped-many-lines", text(".yaml", func(k keyText) (string, bool) {
		return "cdp:\n  id: " + k.id + "\n  secret:\n    " + strings.ReplaceAll(wrap(unpadded(k), 11), "\n", "\n    "), true
	})},
	{"ed25519-hex-wrapped", text(".yaml", func(k keyText) (string, bool) {
		raw, _ := base64.StdEncoding.DecodeString(k.edB64)
		return "api_key_id: " + k.id + "\napi_key_secret: |\n  " + strings.ReplaceAll(wrap(hex.EncodeToString(raw), 22), "\n", "\n  "), true
	})},
	{"ed25519-json-escaped-pieces", text(".json", func(k keyText) (string, bool) {
		return `{"id": "` + k.id + `", "secret": "` + strings.ReplaceAll(wrap(unpadded(k), 8), "\n", `\n`) + `\n"}`, true
	})},
	{"ed25519-string-concat", text(".js", func(k keyText) (string, bool) {
		return "const apiKeyId = \"" + k.id + "\";\nconst apiKeySecret = \"" + strings.ReplaceAll(wrap(unpadded(k), 30), "\n", "\" +\n  \"") + "\";\n", true
	})},
	{"ed25519-properties-xml", text(".xml", func(k keyText) (string, bool) {
		return "<map>\n  <entry key=\"cdp.api.key.id\"><value>" + k.id + "</value></entry>\n  <entry key=\"cdp.api.secret\">\n    <value>" + unpadded(k) + "</value>\n  </entry>\n</map>", true
	})},
	{"self-extracting-zip", func(c *corpus, k keyText) (string, string, string) {
		_, rel := c.path(".sh")
		c.write(rel, append([]byte("#!/bin/sh\nexec unzip -o \"$0\"\n"), zipOf(member{"config/key.json", []byte(keyFile(k.name, k.sec1))})...))
		return rel, "config/key.json", k.fp
	}},
	{"apk", func(c *corpus, k keyText) (string, string, string) {
		_, rel := c.path(".apk")
		c.write(rel, zipOf(member{"AndroidManifest.xml", []byte("\x03\x00\x08\x00binary xml")},
			member{"classes.dex", c.fill("")}, member{"assets/.coinbase_cloud_api_key.json", []byte(keyFile(k.name, k.sec1))}))
		return rel, "assets/.coinbase_cloud_api_key.json", k.fp
	}},
	{"ipa-nested-in-zip", func(c *corpus, k keyText) (string, string, string) {
		_, rel := c.path(".zip")
		ipa := zipOf(member{"Payload/App.app/Info.plist", c.fill("")}, member{"Payload/App.app/main.jsbundle", c.fill("var cfg=" + jsonString(keyFile(k.name, k.sec1)) + ";")})
		c.write(rel, zipOf(member{"release/App.ipa", ipa}))
		return rel, "release/App.ipa!Payload/App.app/main.jsbundle", k.fp
	}},
	{"zip-4-deep", func(c *corpus, k keyText) (string, string, string) {
		_, rel := c.path(".zip")
		z := zipOf(member{"cdp_api_key.json", []byte(`{"id": "` + k.id + `", "privateKey": "` + k.edB64 + `"}`)})
		inner := "cdp_api_key.json"
		for i := 0; i < 3; i++ {
			z = zipOf(member{fmt.Sprintf("l%d.zip", 3-i), z})
			inner = fmt.Sprintf("l%d.zip!", 3-i) + inner
		}
		c.write(rel, z)
		return rel, inner, k.edFP
	}},
	{"tar-gz-no-extension", func(c *corpus, k keyText) (string, string, string) {
		_, rel := c.path(".bin")
		c.write(rel, tarGz(member{"src/main.go", c.fill("")}, member{"deploy/.env", []byte("COINBASE_CLOUD_API_KEY_PRIVATE_KEY=\"" + k.sec1 + "\"\n")}))
		return rel, "deploy/.env", k.fp
	}},
}

func (c *corpus) plant(enc encoding) {
	k := newKeys()
	rel, inner, fp := enc.plant(c, k)
	p := filepath.Join(filepath.Base(c.out), rel)
	if inner != "" {
		p += "!" + inner
	}
	c.truth = append(c.truth, Planted{Path: p, Encoding: enc.name, Fingerprint: fp})
}

var decoys = []struct {
	name string
	text func(k keyText) string
}{
	{"placeholder", func(k keyText) string {
		return keyFile(k.name, "-----BEGIN EC PRIVATE KEY-----\nmy-private-key\n-----END EC PRIVATE KEY-----\n")
	}},
	{"elided", func(k keyText) string {
		return "-----BEGIN EC PRIVATE KEY-----\n" + strings.Split(k.sec1, "\n")[1][:20] + "...\n-----END EC PRIVATE KEY-----\n"
	}},
	{"public-key", func(k keyText) string {
		blk, _ := pem.Decode([]byte(k.sec1))
		key, _ := x509.ParseECPrivateKey(blk.Bytes)
		der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}},
	{"truncated", func(k keyText) string {
		lines := strings.Split(k.sec1, "\n")
		return strings.Join(append(lines[:2], lines[len(lines)-2:]...), "\n")
	}},
	{"ed25519-wrong-public-half", func(k keyText) string {
		raw, _ := base64.StdEncoding.DecodeString(k.edB64)
		raw[50] ^= 0x40
		return "CDP_API_KEY_ID=" + k.id + "\nCDP_API_KEY_SECRET=" + base64.StdEncoding.EncodeToString(raw)
	}},
	{"ed25519-wrapped-wrong-public-half", func(k keyText) string {
		raw, _ := base64.StdEncoding.DecodeString(k.edB64)
		raw[50] ^= 0x40
		return "const apiKeySecret = \"" + strings.ReplaceAll(wrap(base64.RawStdEncoding.EncodeToString(raw), 30), "\n", "\" +\n  \"") + "\";"
	}},
	{"ed25519-plist-truncated", func(k keyText) string {
		return "<dict>\n\t<key>cdp_api_key_secret</key>\n\t<string>" + unpadded(k)[:80] + "</string>\n</dict>"
	}},
	{"random-64-bytes", func(k keyText) string {
		b := make([]byte, 64)
		rand.Read(b)
		return "CDP_API_KEY_SECRET=" + base64.StdEncoding.EncodeToString(b)
	}},
	{"template-dotenv", func(k keyText) string {
		return "COINBASE_CLOUD_API_KEY_PRIVATE_KEY=\"-----BEGIN EC PRIVATE KEY-----\\n<paste your key here>\\n-----END EC PRIVATE KEY-----\\n\""
	}},
	{"scalar-damaged", func(k keyText) string {
		// Parses (any scalar is a key) but the public key it stores is not the scalar's.
		blk, _ := pem.Decode([]byte(k.sec1))
		b := append([]byte{}, blk.Bytes...)
		b[10] ^= 1
		return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: b}))
	}},
	{"corrupted-scalar", func(k keyText) string {
		// A valid-looking PEM whose DER has its length fields broken: it cannot parse.
		blk, _ := pem.Decode([]byte(k.sec1))
		b := append([]byte{}, blk.Bytes...)
		b[1] ^= 0x05
		return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: b}))
	}},
}

func (c *corpus) decoy(d struct {
	name string
	text func(k keyText) string
}) {
	_, rel := c.path(".txt")
	c.write(rel, c.fill(d.text(newKeys())+"\n"))
	c.truth = append(c.truth, Planted{Path: filepath.Join(filepath.Base(c.out), rel), Encoding: d.name, Decoy: true})
}

var _ = big.NewInt

func score(args []string) {
	fl := flag.NewFlagSet("score", flag.ExitOnError)
	truthPath := fl.String("truth", "", "truth.json of the corpus")
	waasctl := fl.String("waasctl", "", "waasctl scan -o jsonl report")
	gitleaks := fl.String("gitleaks", "", "gitleaks -f json report")
	fl.Parse(args)
	data, err := os.ReadFile(*truthPath)
	check(err)
	var truth []Planted
	check(json.Unmarshal(data, &truth))
	found := map[string]map[string]bool{} // path -> fingerprints ("" when the tool gives none)
	add := func(p, fp string) {
		p = strings.TrimPrefix(p, "./")
		if found[p] == nil {
			found[p] = map[string]bool{}
		}
		found[p][fp] = true
	}
	switch {
	case *waasctl != "":
		data, err := os.ReadFile(*waasctl)
		check(err)
		for _, line := range bytes.Split(data, []byte("\n")) {
			var r struct{ Type, Path, Fingerprint string }
			if json.Unmarshal(line, &r) == nil && r.Type == "finding" {
				add(r.Path, r.Fingerprint)
			}
		}
	case *gitleaks != "":
		data, err := os.ReadFile(*gitleaks)
		check(err)
		var rs []struct{ File string }
		check(json.Unmarshal(data, &rs))
		for _, r := range rs {
			add(r.File, "")
		}
	}
	type tally struct{ n, hit int }
	per := map[string]*tally{}
	var order []string
	total, hits, decoysReported := 0, 0, 0
	planted := map[string]bool{}
	for _, t := range truth {
		planted[t.Path] = true
		if per[t.Encoding] == nil {
			per[t.Encoding] = &tally{}
			order = append(order, t.Encoding)
		}
		got := found[t.Path]
		hit := len(got) > 0 && (got[t.Fingerprint] || got[""])
		if t.Decoy {
			if len(got) > 0 {
				per[t.Encoding].hit++
				decoysReported++
			}
		} else if hit {
			per[t.Encoding].hit++
			hits++
		}
		per[t.Encoding].n++
		if !t.Decoy {
			total++
		}
	}
	other := 0
	for p := range found {
		if !planted[p] {
			other++
		}
	}
	res := map[string]any{"planted": total, "found": hits, "decoys": len(truth) - total, "decoysReported": decoysReported, "otherFilesReported": other}
	perEnc := map[string]string{}
	for _, e := range order {
		perEnc[e] = fmt.Sprintf("%d/%d", per[e].hit, per[e].n)
	}
	res["perEncoding"] = perEnc
	out, _ := json.MarshalIndent(res, "", "  ")
	fmt.Println(string(out))
}
