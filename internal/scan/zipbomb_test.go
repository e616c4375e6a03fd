package scan

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// lyingZip is a zip whose one member, 64 MiB of zeros deflated to some 64 KiB, declares in its
// headers a compressed size as large as its real size: by the directory, a 1:1 ratio.
func lyingZip(t *testing.T) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 64 {
		fw.Write(zeros)
	}
	fw.Close()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bomb.txt", Method: zip.Deflate, CompressedSize64: 64 << 20, UncompressedSize64: 64 << 20}
	raw, err := w.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	raw.Write(comp.Bytes())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAZipBombLyingInItsDirectoryIsCapped(t *testing.T) {
	k := newP256(t)
	bomb := lyingZip(t)
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"on disk", bomb},
		{"nested", zipOf(t, member{"inner.zip", bomb}, member{"key.pem", []byte(k.sec1)})},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "a.zip"), c.data)
			res := scanIn(t, dir, "a.zip")
			if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Reason, "expands more than 200:1") {
				t.Fatalf("errors %+v, want the ratio cap", res.Errors)
			}
			if res.Bytes > 8<<20 {
				t.Fatalf("read %d bytes of a bomb before stopping", res.Bytes)
			}
		})
	}
}

// A self-extracting archive: a shell script with a zip behind it.
func TestAZipBehindAStubIsOpened(t *testing.T) {
	k := newP256(t)
	stub := []byte("#!/bin/sh\nexec unzip -o \"$0\"\nexit\n")
	z := zipOf(t, member{"app/config/key.pem", []byte(k.sec1)})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "install.sh"), append(stub, z...))
	// With a comment after the end record, too.
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, _ := w.Create("key.pem")
	f.Write([]byte(k.pkcs8))
	w.SetComment("self-extracting archive")
	w.Close()
	write(t, filepath.Join(dir, "setup.bin"), append(bytes.Repeat([]byte{0x7f, 'E', 'L', 'F'}, 300), buf.Bytes()...))
	res := scanIn(t, dir, ".")
	got := strings.Join(paths(res.Findings), " ")
	if got != "./install.sh!app/config/key.pem ./setup.bin!key.pem" || len(res.Errors) != 0 {
		t.Fatalf("found %q, errors %+v", got, res.Errors)
	}
}

// TestANestedZipBombIsOneError: a bomb of nested zips (42.zip: zips of zips of members that
// each expand past the ratio cap) ended only the innermost zip at each cap, and the scan went
// on to the next: 4,096 error lines for a 16 KB file. The first cap ends the outermost archive.
func TestANestedZipBombIsOneError(t *testing.T) {
	zeros := zipOf(t, member{"zeros", make([]byte, 4<<20)})
	level := zeros
	for range 2 {
		var ms []member
		for i := range 4 {
			ms = append(ms, member{fmt.Sprintf("%d.zip", i), level})
		}
		level = zipOf(t, ms...)
	}
	k := newP256(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "bomb.zip"), level)
	write(t, filepath.Join(dir, "key.pem"), []byte(k.sec1))
	res := New(Options{}).Scan(context.Background(), []string{dir})
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Reason, "expands more than") {
		t.Fatalf("got %d errors, want one naming the ratio: %+v", len(res.Errors), res.Errors)
	}
	if len(res.Findings) != 1 {
		t.Fatalf("the rest of the scan was not completed: %+v", res.Findings)
	}
}
