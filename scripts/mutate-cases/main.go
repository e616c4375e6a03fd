// Command mutate-cases plants the mutants gremlins never runs: those in the
// conditions of an expression-less switch's cases. Go's coverage profile has
// no block for a case condition, so gremlins reports every mutant there as
// "not covered" and skips it, though the code is tested; in packages whose
// checks are written as `switch { case ...: }` that is most of the decisions.
//
//	go run ./scripts/mutate-cases [-workers N] [-out DIR] ./internal/auditlog ./internal/sandbox:jwtverify.go
//
// Each mutant is one operator changed in one case condition, as gremlins'
// default mutators would: a comparison's boundary (< and <=, > and >=) and
// its negation (== and !=, < and >=, > and <=), && and || swapped, and a
// leading ! removed. The package's tests are run against each through
// `go test -overlay` (nothing in the tree is changed); a mutant is KILLED
// when they fail, LIVED when they pass, TIMED OUT when they run past the
// limit, NOT BUILT when the change does not compile. It prints each result
// as it comes and a summary per package; with -out DIR the results go to
// DIR/cases-NAME.json too. It exits 1 if any mutant lived.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

type mutant struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	From   string `json:"from"`
	To     string `json:"to"`
	Status string `json:"status"`
	offset int
}

// replacements are the operators each one becomes (gremlins' boundary and
// negation mutators, and the logical swap).
var replacements = map[token.Token][]token.Token{
	token.LSS:  {token.LEQ, token.GEQ},
	token.LEQ:  {token.LSS, token.GTR},
	token.GTR:  {token.GEQ, token.LEQ},
	token.GEQ:  {token.GTR, token.LSS},
	token.EQL:  {token.NEQ},
	token.NEQ:  {token.EQL},
	token.LAND: {token.LOR},
	token.LOR:  {token.LAND},
}

func main() {
	workers := flag.Int("workers", 1, "mutants tested at once")
	timeout := flag.Duration("timeout", 10*time.Minute, "a test run longer than this is TIMED OUT")
	outDir := flag.String("out", "", "also write each package's results to DIR/cases-NAME.json")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mutate-cases [-workers N] [-out DIR] ./PACKAGE[:a.go,b.go]...")
		os.Exit(2)
	}
	status := 0
	for _, spec := range flag.Args() {
		dir, files, _ := strings.Cut(spec, ":")
		lived, err := mutatePackage(dir, files, *workers, *timeout, *outDir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mutate-cases:", err)
			os.Exit(1)
		}
		if lived > 0 {
			status = 1
		}
	}
	os.Exit(status)
}

// mutatePackage tests every case-condition mutant of the package in dir
// (only the named files, if any) and returns how many lived.
func mutatePackage(dir, files string, workers int, timeout time.Duration, outDir string) (int, error) {
	mutants, sources, err := findMutants(dir, files)
	if err != nil {
		return 0, err
	}
	fmt.Printf("== %s: %d mutants in case conditions\n", dir, len(mutants))
	tmp, err := os.MkdirTemp("", "mutate-cases-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)

	var wg sync.WaitGroup
	next := make(chan int)
	var mu sync.Mutex
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				m := &mutants[i]
				m.Status = run(dir, tmp, i, m, sources[m.File], timeout)
				mu.Lock()
				fmt.Printf("%12s %s:%d:%d %s -> %s\n", m.Status, m.File, m.Line, m.Column, m.From, m.To)
				mu.Unlock()
			}
		}()
	}
	for i := range mutants {
		next <- i
	}
	close(next)
	wg.Wait()

	counts := map[string]int{}
	for _, m := range mutants {
		counts[m.Status]++
	}
	fmt.Printf("%s: killed %d, lived %d, timed out %d, not built %d\n", dir, counts["KILLED"], counts["LIVED"], counts["TIMED OUT"], counts["NOT BUILT"])
	if outDir != "" {
		name := filepath.Base(dir)
		if files != "" {
			name += "-" + strings.ReplaceAll(strings.ReplaceAll(files, ".go", ""), ",", "-")
		}
		data, _ := json.MarshalIndent(mutants, "", "  ")
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(outDir, "cases-"+name+".json"), append(data, '\n'), 0o644); err != nil {
			return 0, err
		}
	}
	return counts["LIVED"], nil
}

// findMutants lists every mutant in the case conditions of the package's
// expression-less switches, with each file's source.
func findMutants(dir, only string) ([]mutant, map[string][]byte, error) {
	keep := map[string]bool{}
	for _, f := range strings.Split(only, ",") {
		if f != "" {
			keep[f] = true
		}
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, nil, err
	}
	fset := token.NewFileSet()
	sources := map[string][]byte{}
	var out []mutant
	for _, path := range paths {
		base := filepath.Base(path)
		if strings.HasSuffix(base, "_test.go") || (len(keep) > 0 && !keep[base]) {
			continue
		}
		// Files for other systems (lock_windows.go, a //go:build line): no test here reaches them.
		if ok, err := build.Default.MatchFile(dir, base); err != nil || !ok {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, nil, err
		}
		sources[path] = src
		ast.Inspect(f, func(n ast.Node) bool {
			sw, ok := n.(*ast.SwitchStmt)
			if !ok || sw.Tag != nil {
				return true
			}
			for _, st := range sw.Body.List {
				for _, cond := range st.(*ast.CaseClause).List {
					out = append(out, mutantsIn(fset, path, cond)...)
				}
			}
			return true
		})
	}
	slices.SortFunc(out, func(a, b mutant) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.offset - b.offset
	})
	return out, sources, nil
}

// mutantsIn lists the mutants of one case condition, nested function
// literals excluded (their code is not the condition).
func mutantsIn(fset *token.FileSet, path string, cond ast.Expr) []mutant {
	var out []mutant
	ast.Inspect(cond, func(n ast.Node) bool {
		switch e := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.BinaryExpr:
			for _, to := range replacements[e.Op] {
				pos := fset.Position(e.OpPos)
				out = append(out, mutant{File: path, Line: pos.Line, Column: pos.Column, From: e.Op.String(), To: to.String(), offset: pos.Offset})
			}
		case *ast.UnaryExpr:
			if e.Op == token.NOT {
				pos := fset.Position(e.OpPos)
				out = append(out, mutant{File: path, Line: pos.Line, Column: pos.Column, From: "!", To: "", offset: pos.Offset})
			}
		}
		return true
	})
	return out
}

// run tests the package with one mutant in place, through an overlay.
func run(dir, tmp string, i int, m *mutant, src []byte, timeout time.Duration) string {
	mutated := make([]byte, 0, len(src)+2)
	mutated = append(mutated, src[:m.offset]...)
	mutated = append(mutated, m.To...)
	mutated = append(mutated, src[m.offset+len(m.From):]...)
	abs, err := filepath.Abs(m.File)
	if err != nil {
		return "ERROR"
	}
	file := filepath.Join(tmp, fmt.Sprintf("mutant-%d.go", i))
	overlay := filepath.Join(tmp, fmt.Sprintf("overlay-%d.json", i))
	ov, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: file}})
	if os.WriteFile(file, mutated, 0o644) != nil || os.WriteFile(overlay, ov, 0o644) != nil {
		return "ERROR"
	}
	defer os.Remove(file)
	defer os.Remove(overlay)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "test", "-count=1", "-failfast", "-overlay="+overlay, dir).CombinedOutput()
	switch {
	case ctx.Err() != nil:
		return "TIMED OUT"
	case err == nil:
		return "LIVED"
	case bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")):
		return "NOT BUILT" // e.g. && swapped where the operands are not booleans
	case errors.As(err, new(*exec.ExitError)):
		return "KILLED"
	}
	return "ERROR"
}
