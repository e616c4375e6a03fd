package scan

// A hold-out corpus, written without reading scripts/bench/scan-corpus: WaaS and CDP keys in
// the encodings real code and config use, planted in real source files (Go's standard library)
// next to decoys, and scanned as a folder the way `waasctl scan DIR` does. Every planted key
// must be found (by fingerprint, at the file it was planted in) and nothing else reported.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/waasctl/waasctl/internal/credentials"
)

// holdoutGen makes keys and filler from a fixed seed, so that a failure can be reproduced.
type holdoutGen struct {
	rnd    *rand.Rand
	filler map[string][]string // by extension: whole source files that hold no key
}

func newHoldoutGen(t *testing.T, seed uint64) *holdoutGen {
	t.Helper()
	g := &holdoutGen{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), filler: map[string][]string{}}
	root := filepath.Join(runtime.GOROOT(), "src")
	var files []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	for _, p := range files {
		ext := filepath.Ext(p)
		if ext != ".go" && ext != ".s" && ext != ".html" && ext != ".json" && ext != ".txt" {
			continue
		}
		if len(g.filler[ext]) >= 40 {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil || len(data) < 2<<10 || len(data) > 64<<10 {
			continue
		}
		// Go's own test keys are real keys: filler must hold none.
		if bytes.Contains(bytes.ToLower(data), []byte("private key")) || len(Detect(data, true).Keys) > 0 {
			continue
		}
		g.filler[ext] = append(g.filler[ext], string(data))
	}
	if len(g.filler[".go"]) < 10 {
		t.Skip("not enough source text under GOROOT")
	}
	return g
}

func (g *holdoutGen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rnd.Uint32())
	}
	return b
}

func (g *holdoutGen) uuid() string {
	b := g.bytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type p256Key struct {
	sec1DER, pkcs8DER []byte
	fp, name          string // name: organizations/{org}/apiKeys/{id}
}

func (g *holdoutGen) p256(t *testing.T) p256Key {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), g.bytes(32))
	if err != nil {
		t.Fatal(err)
	}
	sec1, _ := x509.MarshalECPrivateKey(k)
	p8, _ := x509.MarshalPKCS8PrivateKey(k)
	return p256Key{sec1DER: sec1, pkcs8DER: p8, fp: credentials.Fingerprint(&k.PublicKey),
		name: "organizations/" + g.uuid() + "/apiKeys/" + g.uuid()}
}

type edSecret struct {
	raw    []byte // seed, then public key
	p8DER  []byte
	fp, id string
}

func (g *holdoutGen) ed(t *testing.T) edSecret {
	priv := ed25519.NewKeyFromSeed(g.bytes(32))
	p8, _ := x509.MarshalPKCS8PrivateKey(priv)
	return edSecret{raw: priv, p8DER: p8, fp: credentials.Fingerprint(priv.Public()), id: g.uuid()}
}

// pemText is a PEM block with its header and footer in the case given, and the line end given.
func pemText(label string, der []byte, headerCase func(string) string, eol string) string {
	s := string(pem.EncodeToMemory(&pem.Block{Type: label, Bytes: der}))
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	lines[0] = headerCase(lines[0])
	lines[len(lines)-1] = headerCase(lines[len(lines)-1])
	return strings.Join(lines, eol) + eol
}

func upper(s string) string { return s }
func lower(s string) string { return strings.ToLower(s) }
func title(s string) string {
	words := strings.Fields(strings.ToLower(strings.Trim(s, "-")))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return "-----" + strings.Join(words, " ") + "-----"
}

func b64(s string) string     { return base64.StdEncoding.EncodeToString([]byte(s)) }
func jsonStr(s string) string { b, _ := json.Marshal(s); return string(b) }
func indentBy(s, pre string) string {
	return pre + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pre)
}

func u16(s string, bigEndian, bom bool) string {
	var b []byte
	if bom {
		if bigEndian {
			b = append(b, 0xfe, 0xff)
		} else {
			b = append(b, 0xff, 0xfe)
		}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// concat splits a PEM into one quoted piece a line, joined as the language joins strings.
func concat(p, open, close, join string) string {
	lines := strings.Split(strings.TrimRight(p, "\n"), "\n")
	var b strings.Builder
	for i, l := range lines {
		b.WriteString("    " + open + l + `\n` + close)
		if i < len(lines)-1 {
			b.WriteString(join + "\n")
		}
	}
	return b.String()
}

// plant is one file of the corpus.
type plant struct {
	path string
	data []byte
	fps  []string // what must be found in it; none for a decoy
	name string   // the key name the first key must be paired with, when set
}

// embed puts snippet into a real source file of the extension's kind, at a line boundary.
func (g *holdoutGen) embed(ext, snippet string) string {
	pool := g.filler[ext]
	if len(pool) == 0 {
		pool = g.filler[".go"]
	}
	f := pool[g.rnd.IntN(len(pool))]
	lines := strings.SplitAfter(f, "\n")
	at := g.rnd.IntN(len(lines))
	return strings.Join(lines[:at], "") + "\n" + snippet + "\n" + strings.Join(lines[at:], "")
}

func (g *holdoutGen) p256Plants(t *testing.T) []plant {
	var out []plant
	add := func(path, data string, k p256Key, name string) {
		out = append(out, plant{path: path, data: []byte(data), fps: []string{k.fp}, name: name})
	}
	for _, form := range []string{"sec1", "pkcs8"} {
		k := g.p256(t)
		label, der := "EC PRIVATE KEY", k.sec1DER
		if form == "pkcs8" {
			label, der = "PRIVATE KEY", k.pkcs8DER
		}
		p := pemText(label, der, upper, "\n")
		esc := strings.ReplaceAll(p, "\n", `\n`)
		escName := strings.ReplaceAll(k.name, "/", `\/`)
		keyFile := `{"name": "` + escName + `", "privateKey": "` + esc + `"}`
		dir := "p256-" + form + "/"

		add(dir+"plain.pem", p, k, "")
		add(dir+"crlf/key.txt", g.embed(".txt", pemText(label, der, upper, "\r\n")), k, "")
		add(dir+"lower.go", g.embed(".go", "/*\n"+pemText(label, der, lower, "\n")+"*/"), k, "")
		add(dir+"title.txt", g.embed(".txt", pemText(label, der, title, "\n")), k, "")
		add(dir+"crlf-lower.txt", g.embed(".txt", pemText(label, der, lower, "\r\n")), k, "")
		add(dir+".coinbase_cloud_api_key.json", keyFile, k, k.name)
		add(dir+"pretty.json", "{\n  \"name\": "+jsonStr(k.name)+",\n  \"privateKey\": "+jsonStr(p)+"\n}\n", k, k.name)
		add(dir+"crlf-escapes.json", `{"name":"`+k.name+`","privateKey":"`+strings.ReplaceAll(p, "\n", `\r\n`)+`"}`, k, k.name)
		add(dir+"json-in-json.json", `{"config": `+jsonStr(keyFile)+`}`, k, k.name)
		add(dir+"json-in-json-in-json.json", `{"outer": `+jsonStr(`{"config": `+jsonStr(keyFile)+`}`)+`}`, k, k.name)
		add(dir+"dq.env", "COINBASE_API_KEY_NAME="+k.name+"\nCOINBASE_API_PRIVATE_KEY=\""+esc+"\"\n", k, k.name)
		add(dir+"multiline.env", "API_KEY_NAME=\""+k.name+"\"\nAPI_PRIVATE_KEY=\""+p+"\"\n", k, k.name)
		add(dir+"sq.env", "export WAAS_KEY='"+esc+"'\n", k, "")
		add(dir+"unquoted.env", "WAAS_KEY="+esc+"\n", k, "")
		add(dir+"ansi-c.sh", g.embed(".txt", "export WAAS_KEY=$'"+esc+"'"), k, "")
		add(dir+"concat-plus-end.js", "const name = \""+k.name+"\";\nconst key =\n"+concat(p, `"`, `"`, " +")+";\n", k, k.name)
		add(dir+"concat-plus-start.ts", "const key = ''\n"+strings.ReplaceAll(concat(p, "'", "'", ""), "    '", "  + '")+";\n", k, "")
		add(dir+"concat-python.py", "KEY = (\n"+concat(p, `"`, `"`, "")+"\n)\n", k, "")
		add(dir+"concat.go", g.embed(".go", "var key = "+strings.TrimLeft(concat(p, `"`, `"`, " +"), " ")), k, "")
		add(dir+"raw.go", g.embed(".go", "var key = `"+p+"`"), k, "")
		add(dir+"triple.py", "KEY = \"\"\"\n"+p+"\"\"\"\n", k, "")
		add(dir+"java.java", "String key = \"\" +\n"+concat(p, `"`, `"`, " +")+";\n", k, "")
		add(dir+"block.yaml", "cdp:\n  api_key_name: "+k.name+"\n  private_key: |\n"+indentBy(p, "    ")+"\n", k, k.name)
		add(dir+"block-strip.yml", "waas:\n    key: |-\n"+indentBy(p, "        ")+"\nnext: 1\n", k, "")
		add(dir+"folded.yaml", "key: >\n"+indentBy(p, "  ")+"\n", k, "")
		add(dir+"folded-strip.yaml", "key: >-\n"+indentBy(p, "  ")+"\nother: x\n", k, "")
		add(dir+"dq.yaml", "private_key: \""+esc+"\"\n", k, "")
		add(dir+"actions.yml", "jobs:\n  x:\n    env:\n      PRIVATE_KEY: \""+esc+"\"\n", k, "")
		add(dir+"compose.yml", "services:\n  app:\n    environment:\n      - WAAS_PRIVATE_KEY="+esc+"\n", k, "")
		add(dir+"k8s-pem.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: waas\ntype: Opaque\ndata:\n  key.pem: "+b64(p)+"\n", k, "")
		add(dir+"k8s-json.yaml", "apiVersion: v1\nkind: Secret\ndata:\n  cdp_api_key.json: "+b64(keyFile)+"\n", k, k.name)
		add(dir+"key.json.b64", wrap(b64(keyFile), 76), k, k.name)
		add(dir+"key.json.b64.txt", b64(keyFile), k, k.name)
		add(dir+"b64-of-b64.txt", "blob="+b64(b64(p))+"\n", k, "")
		add(dir+"json-in-b64-d2.txt", "CONFIG="+b64(`{"key_b64": "`+b64(p)+`"}`)+"\n", k, "")
		add(dir+"url-query.txt", g.embed(".txt", "https://example.test/cb?key="+url.QueryEscape(p)+"&n="+url.QueryEscape(k.name)), k, k.name)
		add(dir+"url-path.txt", "key="+url.PathEscape(p)+"\n", k, "")
		add(dir+"utf16le-bom.env", u16("NAME="+k.name+"\r\nKEY=\""+p+"\"\r\n", false, true), k, k.name)
		add(dir+"utf16le.txt", u16(g.embed(".txt", p), false, false), k, "")
		add(dir+"utf16be-bom.json", u16(keyFile, true, true), k, k.name)
		add(dir+"utf16be.txt", u16(g.embed(".txt", p), true, false), k, "")
		add(dir+"utf16-bare-der.json", u16(`{"name": "`+k.name+`", "privateKey": "`+base64.StdEncoding.EncodeToString(der)+`"}`, false, false), k, k.name)
		add(dir+"utf16-b64-keyfile.txt", u16(b64(keyFile), false, false), k, k.name)
		add(dir+"utf16be-escaped.json", u16(keyFile, true, false), k, k.name)
		add(dir+"bare-der.json", `{"name": "`+k.name+`", "privateKey": "`+base64.StdEncoding.EncodeToString(der)+`"}`, k, k.name)
		add(dir+"one-line.txt", g.embed(".txt", "-----BEGIN "+label+"-----"+base64.StdEncoding.EncodeToString(der)+"-----END "+label+"-----"), k, "")
		add(dir+"toml.toml", "[waas]\nkey = \"\"\"\n"+p+"\"\"\"\n", k, "")
		add(dir+"heredoc.tf", "locals {\n  key = <<-EOT\n"+indentBy(p, "    ")+"\n  EOT\n}\n", k, "")
		add(dir+"strings.xml", "<resources>\n<string name=\"k\">"+strings.ReplaceAll(p, "\n", "&#10;")+"</string>\n</resources>\n", k, "")
		add(dir+"readme.md", g.embed(".html", "```\n"+p+"```"), k, "")
		add(dir+"trailing-blanks.txt", strings.ReplaceAll(p, "\n", "  \n"), k, "")
		add(dir+"ps1-b64-utf16.txt", "powershell -EncodedCommand "+b64(u16("$k = '"+p+"'", false, false))+"\n", k, "")
		add(dir+"escaped-slash-body.json", `{"privateKey": "`+strings.ReplaceAll(esc, "/", `\/`)+`"}`, k, "")
		add(dir+"swift.swift", "let key = \"\"\"\n"+indentBy(p, "    ")+"\n    \"\"\"\n", k, "")
	}
	return out
}

func (g *holdoutGen) edPlants(t *testing.T) []plant {
	var out []plant
	add := func(path, data string, k edSecret, name string) {
		out = append(out, plant{path: path, data: []byte(data), fps: []string{k.fp}, name: name})
	}
	forms := []struct {
		name string
		enc  func([]byte) string
	}{
		{"std", base64.StdEncoding.EncodeToString},
		{"raw", base64.RawStdEncoding.EncodeToString},
		{"url", base64.URLEncoding.EncodeToString},
		{"rawurl", base64.RawURLEncoding.EncodeToString},
	}
	for _, f := range forms {
		k := g.ed(t)
		s := f.enc(k.raw)
		dir := "ed-" + f.name + "/"
		add(dir+"cdp_api_key.json", "{\n   \"id\": \""+k.id+"\",\n   \"privateKey\": \""+s+"\"\n}", k, k.id)
		add(dir+"name-field.json", `{"name":"`+k.id+`","privateKey":"`+s+`"}`, k, k.id)
		add(dir+"dot.env", "CDP_API_KEY_ID="+k.id+"\nCDP_API_KEY_SECRET="+s+"\n", k, k.id)
		add(dir+"quoted.env", "CDP_API_KEY_ID=\""+k.id+"\"\nCDP_API_KEY_SECRET=\""+s+"\"\n", k, k.id)
		add(dir+"private.env", "PRIVATE_KEY="+s+"\nKEY_ID="+k.id+"\n", k, k.id)
		add(dir+"lower.env", "api_key_id="+k.id+"\nprivate_key="+s+"\n", k, k.id)
		add(dir+"secret.yaml", "cdp:\n  key_id: "+k.id+"\n  secret: "+s+"\n", k, k.id)
		add(dir+"secret-quoted.yaml", "cdp:\n  key_id: "+k.id+"\n  secret: \""+s+"\"\n", k, k.id)
		add(dir+"snake.yaml", "api_key_id: "+k.id+"\napi_key_secret: "+s+"\n", k, k.id)
		add(dir+"camel.yml", "apiKeyId: "+k.id+"\napiKeySecret: "+s+"\n", k, k.id)
		add(dir+"private.yml", "coinbase:\n  id: "+k.id+"\n  private_key: '"+s+"'\n", k, k.id)
		add(dir+"upper.yml", "env:\n  CDP_API_KEY_ID: "+k.id+"\n  CDP_API_KEY_SECRET: "+s+"\n", k, k.id)
		add(dir+"client.js", g.embed(".txt", "const apiKeyId = '"+k.id+"';\nconst privateKey = '"+s+"';"), k, k.id)
		add(dir+"object.ts", "const cfg = {\n  apiKeyId: \""+k.id+"\",\n  apiKeySecret: \""+s+"\",\n};\n", k, k.id)
		add(dir+"client.py", "api_key_id = \""+k.id+"\"\napi_key_secret = \""+s+"\"\n", k, k.id)
		add(dir+"dict.py", "CFG = {\"api_key_id\": \""+k.id+"\", \"api_key_secret\": \""+s+"\"}\n", k, k.id)
		add(dir+"main.go", g.embed(".go", "var cfg = Config{\n\tKeyID: \""+k.id+"\",\n\tPrivateKey: \""+s+"\",\n}"), k, k.id)
		add(dir+"camel-secret.go", g.embed(".go", "var apiKeyName = \""+k.id+"\"\nvar apiKeySecret = \""+s+"\""), k, k.id)
		add(dir+"escaped-slash.json", `{"id":"`+k.id+`","privateKey":"`+strings.ReplaceAll(s, "/", `\/`)+`"}`, k, k.id)
		add(dir+"url.txt", "https://example.test/?key_id="+k.id+"&api_key_secret="+url.QueryEscape(s)+"\n", k, k.id)
		add(dir+"keyfile.b64", b64("{\"id\": \""+k.id+"\", \"privateKey\": \""+s+"\"}"), k, k.id)
		add(dir+"k8s.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cdp-api-key\ndata:\n  CDP_API_KEY_ID: "+b64(k.id)+"\n  CDP_API_KEY_SECRET: "+b64(s)+"\n", k, "")
		add(dir+"k8s-lower.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cdp\ndata:\n  api-key-secret: "+b64(s)+"\n", k, "")
		add(dir+"k8s-json.yaml", "apiVersion: v1\nkind: Secret\ndata:\n  cdp_api_key.json: "+b64("{\"id\": \""+k.id+"\", \"privateKey\": \""+s+"\"}")+"\n", k, k.id)
		add(dir+"utf16le-bom.env", u16("CDP_API_KEY_ID="+k.id+"\r\nCDP_API_KEY_SECRET="+s+"\r\n", false, true), k, k.id)
		add(dir+"utf16le.env", u16("CDP_API_KEY_ID="+k.id+"\r\nCDP_API_KEY_SECRET="+s+"\r\n", false, false), k, k.id)
		add(dir+"utf16be-bom.json", u16(`{"id": "`+k.id+`", "privateKey": "`+s+`"}`, true, true), k, k.id)
		add(dir+"utf16be.json", u16(`{"id": "`+k.id+`", "privateKey": "`+s+`"}`, true, false), k, k.id)
		add(dir+"secret.json", `{"key_id": "`+k.id+`", "secret": "`+s+`"}`, k, k.id)
		add(dir+"php.php", "<?php\nreturn ['api_key_id' => '"+k.id+"', 'api_key_secret' => '"+s+"'];\n", k, k.id)
		add(dir+"ruby.rb", "CDP = { key_id: \""+k.id+"\", api_key_secret: \""+s+"\" }\n", k, k.id)
		add(dir+"go-short.go", g.embed(".go", "func cfg() {\n\tkeyID := \""+k.id+"\"\n\tapiKeySecret := \""+s+"\"\n\t_ = keyID\n}"), k, k.id)
		add(dir+"app.properties", "cdp.api.key.id="+k.id+"\ncdp.api.key.secret="+s+"\n", k, k.id)
		add(dir+"settings.toml", "[cdp]\napi_key_id = \""+k.id+"\"\napi_key_secret = \""+s+"\"\n", k, k.id)
		add(dir+"secret-tab.yaml", "cdp:\n  id:\t"+k.id+"\n  secret:\t"+s+"\n", k, k.id)
		add(dir+"id-far.json", "{\n  \"id\": \""+k.id+"\",\n  \"notes\": \""+strings.Repeat("x", 8<<10)+"\",\n  \"privateKey\": \""+s+"\"\n}\n", k, k.id)
		// The text of an element named by its own tag; a value on the lines after its name.
		add(dir+"secret-element.xml", "<config>\n  <keyId>"+k.id+"</keyId>\n  <secret>"+s+"</secret>\n</config>\n", k, k.id)
		add(dir+"snake-element.xml", "<cdp><api_key_id>"+k.id+"</api_key_id><api_key_secret>"+s+"</api_key_secret></cdp>", k, k.id)
		add(dir+"element-wrapped.xml", "<credentials>\n  <id>"+k.id+"</id>\n  <secret>\n    "+s[:44]+"\n    "+s[44:]+"\n  </secret>\n</credentials>\n", k, k.id)
		add(dir+"folded.yaml", "api_key_id: "+k.id+"\napi_key_secret: >-\n  "+s+"\n", k, k.id)
		add(dir+"literal.yaml", "cdp:\n  key_id: "+k.id+"\n  secret: |\n    "+s+"\n", k, k.id)
		add(dir+"next-line.yaml", "cdp:\n  key_id: "+k.id+"\n  secret:\n    "+s+"\n", k, k.id)
		add(dir+"wrapped.yaml", "api_key_id: "+k.id+"\napi_key_secret: "+s[:43]+"\n  "+s[43:]+"\n", k, k.id)
		add(dir+"folded-wrapped.yaml", "api_key_id: "+k.id+"\napi_key_secret: >-\n  "+s[:40]+"\n  "+s[40:]+"\n", k, k.id)
		add(dir+"continued.properties", "cdp.api.key.id="+k.id+"\ncdp.api.key.secret=\\\n    "+s+"\n", k, k.id)
		// Issue 14: a property list, a short first piece, many lines, \n escapes and string
		// concatenation between pieces, values named by the element around them.
		add(dir+"Config.plist", "<plist version=\"1.0\">\n<dict>\n\t<key>CDPKeyID</key>\n\t<string>"+k.id+"</string>\n\t<key>apiKeySecret</key>\n\t<string>"+s+"</string>\n</dict>\n</plist>\n", k, k.id)
		add(dir+"short-first.yaml", "api_key_id: "+k.id+"\napi_key_secret: "+s[:12]+"\n  "+s[12:52]+"\n  "+s[52:]+"\n", k, k.id)
		add(dir+"many-lines.yaml", "cdp:\n  id: "+k.id+"\n  secret:\n    "+strings.Join(every(s, 11), "\n    ")+"\n", k, k.id)
		add(dir+"escaped-pieces.json", `{"id": "`+k.id+`", "secret": "`+strings.Join(every(s, 16), `\n`)+`\n"}`, k, k.id)
		add(dir+"concat.js", "const apiKeyId = \""+k.id+"\";\nconst secret = \""+strings.Join(every(s, 30), "\" +\n  \"")+"\";\n", k, k.id)
		add(dir+"concat-short.go", g.embed(".go", "const cdpKeyID = \""+k.id+"\"\n\nconst cdpSecret = \""+s[:9]+"\" +\n\t\""+s[9:50]+"\" +\n\t\""+s[50:]+"\"\n"), k, k.id)
		add(dir+"properties.xml", "<map>\n  <entry key=\"cdp.api.key.id\"><value>"+k.id+"</value></entry>\n  <entry key=\"cdp.api.secret\">\n    <value>"+s+"</value>\n  </entry>\n</map>\n", k, k.id)
		add(dir+"app.config", "<configuration>\n  <appSettings>\n    <add key=\"CdpApiKeyId\" value=\""+k.id+"\" />\n    <add key=\"CdpApiSecret\" value=\""+s+"\" />\n  </appSettings>\n</configuration>\n", k, k.id)
	}
	k := g.ed(t)
	add("ed-pkcs8/cdp.pem", "# CDP API key "+k.id+"\n"+pemText("PRIVATE KEY", k.p8DER, upper, "\n"), k, "")
	add("ed-hex/cdp.env", "CDP_API_KEY_ID="+k.id+"\nCDP_API_KEY_SECRET="+hex.EncodeToString(k.raw)+"\n", k, k.id)
	return out
}

func (g *holdoutGen) decoyPlants(t *testing.T) []plant {
	var out []plant
	add := func(path, data string) {
		out = append(out, plant{path: "decoy/" + path, data: []byte(g.embed(".txt", data))})
	}
	k := g.p256(t)
	p := pemText("EC PRIVATE KEY", k.sec1DER, upper, "\n")
	body := strings.Split(strings.TrimRight(p, "\n"), "\n")
	add("dots.txt", "-----BEGIN EC PRIVATE KEY-----\n...\n-----END EC PRIVATE KEY-----")
	add("dots-escaped.json", `{"privateKey": "-----BEGIN EC PRIVATE KEY-----\n...\n-----END"}`)
	add("your.env", "PRIVATE_KEY=YOUR_PRIVATE_KEY\nCDP_API_KEY_SECRET=YOUR_API_KEY_SECRET\n")
	add("angle.yaml", "private_key: <private key>\nname: organizations/{org_id}/apiKeys/{key_id}\n")
	add("angle-pem.txt", "-----BEGIN EC PRIVATE KEY-----\n<private key>\n-----END EC PRIVATE KEY-----")
	add("elided.txt", body[0]+"\n"+body[1][:20]+"...\n"+body[len(body)-1])
	add("truncated.pem", strings.Join(body[:len(body)-2], "\n")+"\n"+body[len(body)-1]+"\n")
	add("no-end.pem", strings.Join(body[:len(body)-1], "\n")+"\n")
	// One bad byte in the middle of the body.
	bad := []byte(p)
	mid := len(body[0]) + 1 + 30
	if bad[mid] == 'A' {
		bad[mid] = 'B'
	} else {
		bad[mid] = 'A'
	}
	add("bad-byte.pem", string(bad))
	pk, _ := ecdsa.ParseRawPrivateKey(elliptic.P256(), g.bytes(32))
	pub, _ := x509.MarshalPKIXPublicKey(&pk.PublicKey)
	add("public.pem", pemText("PUBLIC KEY", pub, upper, "\n"))
	add("public-in-json.json", `{"name": "`+k.name+`", "publicKey": "`+strings.ReplaceAll(pemText("PUBLIC KEY", pub, upper, "\n"), "\n", `\n`)+`"}`)
	rk, err := rsa.GenerateKey(rngReader{g}, 1024)
	if err != nil {
		t.Fatal(err)
	}
	add("rsa.pem", pemText("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk), upper, "\n"))
	rp8, _ := x509.MarshalPKCS8PrivateKey(rk)
	add("rsa-pkcs8.json", `{"name": "`+k.name+`", "privateKey": "`+strings.ReplaceAll(pemText("PRIVATE KEY", rp8, upper, "\n"), "\n", `\n`)+`"}`)
	p384, _ := ecdsa.ParseRawPrivateKey(elliptic.P384(), g.bytes(48))
	d384, _ := x509.MarshalECPrivateKey(p384)
	add("p384.pem", pemText("EC PRIVATE KEY", d384, upper, "\n"))
	e := g.ed(t)
	s := base64.StdEncoding.EncodeToString(e.raw)
	wrongPub := append(append([]byte{}, e.raw[:32]...), g.bytes(32)...)
	other := g.ed(t)
	spliced := append(append([]byte{}, e.raw[:32]...), other.raw[32:]...)
	add("ed-wrong-pub.env", "CDP_API_KEY_ID="+e.id+"\nCDP_API_KEY_SECRET="+base64.StdEncoding.EncodeToString(wrongPub)+"\n")
	add("ed-spliced.yaml", "api_key_id: "+e.id+"\napi_key_secret: "+base64.RawStdEncoding.EncodeToString(spliced)+"\n")
	add("ed-random.json", `{"id": "`+e.id+`", "privateKey": "`+base64.StdEncoding.EncodeToString(g.bytes(64))+`"}`)
	add("ed-random-unpadded.env", "CDP_API_KEY_SECRET="+base64.RawURLEncoding.EncodeToString(g.bytes(64))+"\n")
	add("ed-truncated.env", "CDP_API_KEY_SECRET="+s[:80]+"\n")
	add("ed-seed-only.env", "CDP_API_KEY_SECRET="+base64.StdEncoding.EncodeToString(e.raw[:32])+"\n")
	add("ed-public-only.env", "CDP_API_KEY_PUBLIC="+base64.StdEncoding.EncodeToString(e.raw[32:])+"\n")
	add("ed-bad-char.env", "CDP_API_KEY_SECRET="+s[:40]+flipChar(s[40])+s[41:]+"\n")
	// Elements and later lines: a placeholder, a public key, random 64 bytes, a wrong public
	// half; and random 64 bytes with nothing secret about their place.
	raw := base64.RawStdEncoding.EncodeToString
	add("element-placeholder.xml", "<cdp>\n  <keyId>"+e.id+"</keyId>\n  <secret>YOUR_SECRET_HERE</secret>\n</cdp>\n")
	add("element-public.xml", "<cdp><keyId>"+e.id+"</keyId><publicKey>"+raw(e.raw[32:])+"</publicKey><secret>"+raw(e.raw[32:])+"</secret></cdp>")
	add("element-random.xml", "<cdp><keyId>"+e.id+"</keyId><secret>"+raw(g.bytes(64))+"</secret></cdp>")
	add("element-wrong-pub.xml", "<cdp><keyId>"+e.id+"</keyId><secret>\n  "+raw(wrongPub)+"\n</secret></cdp>")
	add("folded-random.yaml", "api_key_id: "+e.id+"\napi_key_secret: >-\n  "+raw(g.bytes(64))+"\n")
	add("wrapped-wrong-pub.yaml", "api_key_id: "+e.id+"\napi_key_secret: "+raw(wrongPub)[:43]+"\n  "+raw(wrongPub)[43:]+"\n")
	add("blob-element.xml", "<data>"+raw(g.bytes(64))+"</data>")
	add("blob-next-line.yaml", "checksum:\n  "+raw(g.bytes(64))+"\n")
	// Issue 14's forms holding a wrong public half, a truncated value or a placeholder.
	wp := raw(wrongPub)
	add("plist-wrong-pub.plist", "<dict>\n\t<key>CDPKeyID</key>\n\t<string>"+e.id+"</string>\n\t<key>apiKeySecret</key>\n\t<string>"+wp+"</string>\n</dict>\n")
	add("plist-placeholder.plist", "<dict>\n\t<key>cdp_api_key_secret</key>\n\t<string>YOUR_CDP_API_KEY_SECRET</string>\n</dict>\n")
	add("short-first-wrong-pub.yaml", "api_key_id: "+e.id+"\napi_key_secret: "+wp[:12]+"\n  "+wp[12:52]+"\n  "+wp[52:]+"\n")
	add("many-lines-truncated.yaml", "api_key_id: "+e.id+"\napi_key_secret:\n  "+strings.Join(every(raw(e.raw)[:80], 10), "\n  ")+"\n")
	add("concat-wrong-pub.js", "const secret = \""+strings.Join(every(wp, 30), "\" +\n  \"")+"\";\n")
	add("escaped-truncated.json", `{"id": "`+e.id+`", "secret": "`+strings.Join(every(raw(e.raw)[:84], 14), `\n`)+`"}`)
	add("properties-wrong-pub.xml", "<entry key=\"cdp.api.secret\"><value>"+wp+"</value></entry>")
	// Random 64-byte base64 values, as lock files and checksums hold them, not near a CDP name.
	var sums strings.Builder
	for range 20 {
		sums.WriteString("  \"integrity\": \"sha512-" + base64.StdEncoding.EncodeToString(g.bytes(64)) + "\",\n")
		sums.WriteString("  digest = \"" + base64.StdEncoding.EncodeToString(g.bytes(64)) + "\"\n")
		sums.WriteString("  sum: " + base64.RawStdEncoding.EncodeToString(g.bytes(64)) + "\n")
	}
	add("checksums.txt", sums.String())
	// Published test vectors: keys everyone has, not leaks.
	for i, v := range rfc8032Seeds {
		seed, _ := hex.DecodeString(v)
		tv := ed25519.NewKeyFromSeed(seed)
		add(fmt.Sprintf("rfc8032-%d-b64.env", i), "# RFC 8032 test vector\nCDP_API_KEY_SECRET="+base64.StdEncoding.EncodeToString(tv)+"\n")
		add(fmt.Sprintf("rfc8032-%d-hex.py", i), "api_key_secret = \""+hex.EncodeToString(tv)+"\"\n")
	}
	tv, _ := hex.DecodeString(rfc6979P256)
	tk, _ := ecdsa.ParseRawPrivateKey(elliptic.P256(), tv)
	td, _ := x509.MarshalECPrivateKey(tk)
	add("rfc6979.pem", "// RFC 6979 A.2.5\n"+pemText("EC PRIVATE KEY", td, upper, "\n"))
	add("rfc6979.json", `{"name": "`+k.name+`", "privateKey": "`+strings.ReplaceAll(pemText("EC PRIVATE KEY", td, upper, "\n"), "\n", `\n`)+`"}`)
	return out
}

// Seeds of RFC 8032's Ed25519 test vectors 1 to 3, and RFC 6979's P-256 key (A.2.5).
var rfc8032Seeds = []string{
	"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
}

const rfc6979P256 = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"

func flipChar(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

type rngReader struct{ g *holdoutGen }

func (r rngReader) Read(p []byte) (int, error) {
	copy(p, r.g.bytes(len(p)))
	return len(p), nil
}

func zipBytes(t *testing.T, members ...member) []byte { return zipOf(t, members...) }

func tarBytes(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg})
		tw.Write(m.data)
	}
	tw.Close()
	return buf.Bytes()
}

func gzBytes(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func (g *holdoutGen) archivePlants(t *testing.T) []plant {
	var out []plant
	k := g.p256(t)
	e := g.ed(t)
	p := pemText("EC PRIVATE KEY", k.sec1DER, upper, "\n")
	keyFile := []byte(`{"name": "` + strings.ReplaceAll(k.name, "/", `\/`) + `", "privateKey": "` + strings.ReplaceAll(p, "\n", `\n`) + `"}`)
	edFile := []byte("{\"id\": \"" + e.id + "\", \"privateKey\": \"" + base64.StdEncoding.EncodeToString(e.raw) + "\"}")
	src := []byte(g.embed(".go", ""))
	add := func(path string, data []byte, name string, fps ...string) {
		out = append(out, plant{path: "archives/" + path, data: data, fps: fps, name: name})
	}
	add("keys.zip", zipBytes(t, member{"README.md", src}, member{".coinbase_cloud_api_key.json", keyFile}), k.name, k.fp)
	add("keys.tar", tarBytes(t, member{"src/main.go", src}, member{"cdp_api_key.json", edFile}), e.id, e.fp)
	add("backup.bin", gzBytes(tarBytes(t, member{"a/b/c.go", src}, member{"a/.env", []byte("WAAS_KEY=\"" + strings.ReplaceAll(p, "\n", `\n`) + "\"\n")})), "", k.fp)
	add("release.tgz", gzBytes(tarBytes(t, member{"x.json", edFile})), e.id, e.fp)
	add("zip-in-zip.zip", zipBytes(t, member{"inner.zip", zipBytes(t, member{"k.json", keyFile})}), k.name, k.fp)
	// An APK: the key in assets, its name in the resources.
	apk := zipBytes(t,
		member{"AndroidManifest.xml", []byte("\x03\x00\x08\x00binary xml")},
		member{"classes.dex", g.bytes(4096)},
		member{"res/values/strings.xml", []byte("<resources><string name=\"api_key_name\">" + k.name + "</string></resources>")},
		member{"assets/key.pem", []byte(p)},
		member{"assets/cdp.json", edFile})
	add("app-release.apk", apk, "", k.fp, e.fp)
	// An IPA inside a zip (a CI artifact), the key in the React Native bundle.
	jsb := []byte(g.embed(".txt", "var c={apiKeyName:\""+k.name+"\",privateKey:\""+strings.ReplaceAll(p, "\n", `\n`)+"\"};"))
	ipa := zipBytes(t, member{"Payload/App.app/Info.plist", []byte("<plist/>")}, member{"Payload/App.app/main.jsbundle", jsb})
	add("artifacts.zip", zipBytes(t, member{"build/App.ipa", ipa}), k.name, k.fp)
	// Four levels deep: the key is at depth 4.
	d := zipBytes(t, member{"k.json", keyFile})
	for i := 3; i >= 1; i-- {
		d = zipBytes(t, member{fmt.Sprintf("level%d.zip", i), d})
	}
	add("deep4.zip", d, k.name, k.fp)
	add("mixed.tar.gz", gzBytes(tarBytes(t, member{"lib/app.jar", zipBytes(t, member{"META-INF/x", src}, member{"config/key.json", keyFile})})), k.name, k.fp)
	add("aab.aab", zipBytes(t, member{"base/assets/.env", []byte("CDP_API_KEY_ID=" + e.id + "\nCDP_API_KEY_SECRET=" + base64.RawStdEncoding.EncodeToString(e.raw) + "\n")}), e.id, e.fp)
	// An IPA whose property list holds a CDP secret.
	ipaPlist := zipBytes(t, member{"Payload/App.app/Info.plist", []byte("<plist/>")},
		member{"Payload/App.app/Keys.plist", []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\t<key>cdp_api_key_id</key>\n\t<string>" + e.id + "</string>\n\t<key>cdp_api_key_secret</key>\n\t<string>" + base64.RawStdEncoding.EncodeToString(e.raw) + "</string>\n</dict>\n</plist>\n")})
	add("App.ipa", ipaPlist, e.id, e.fp)
	add("decoys.zip", zipBytes(t, member{"key.pem", []byte("-----BEGIN EC PRIVATE KEY-----\n...\n-----END EC PRIVATE KEY-----\n")}, member{"x.go", src}), "")
	return out
}

// TestHoldoutCorpus plants keys and decoys in a folder and scans it: 100% of keys, no decoy.
func TestHoldoutCorpus(t *testing.T) {
	g := newHoldoutGen(t, 20261206)
	var plants []plant
	plants = append(plants, g.p256Plants(t)...)
	plants = append(plants, g.edPlants(t)...)
	plants = append(plants, g.decoyPlants(t)...)
	plants = append(plants, g.archivePlants(t)...)
	dir := t.TempDir()
	byPath := map[string]plant{}
	for _, p := range plants {
		if _, dup := byPath[p.path]; dup {
			t.Fatalf("two plants at %s", p.path)
		}
		byPath[p.path] = p
		write(t, filepath.Join(dir, p.path), p.data)
	}
	res := New(Options{}).Scan(context.Background(), []string{dir})
	for _, e := range res.Errors {
		t.Errorf("scan error: %s: %s", e.Path, e.Reason)
	}
	found := map[string][]Finding{}
	for _, f := range res.Findings {
		rel, _ := filepath.Rel(dir, strings.SplitN(f.Path, "!", 2)[0])
		found[filepath.ToSlash(rel)] = append(found[filepath.ToSlash(rel)], f)
	}
	keys, missed, decoys := 0, 0, 0
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range byPath {
			if !yield(p) {
				return
			}
		}
	})
	for _, path := range paths {
		p := byPath[path]
		got := found[path]
		keys += len(p.fps)
		for _, fp := range p.fps {
			i := slices.IndexFunc(got, func(f Finding) bool { return f.Fingerprint == fp })
			if i < 0 {
				missed++
				t.Errorf("MISSED %s", path)
				continue
			}
			if p.name != "" && got[i].KeyName != p.name {
				t.Errorf("NAME %s: paired with %q, want %q", path, got[i].KeyName, p.name)
			}
		}
		for _, f := range got {
			if !slices.Contains(p.fps, f.Fingerprint) {
				decoys++
				t.Errorf("FALSE REPORT %s (%s, %s)", f.Path, f.Kind, f.Encoding)
			}
		}
	}
	t.Logf("%d files, %d keys planted, %d missed, %d false reports", len(plants), keys, missed, decoys)
}
