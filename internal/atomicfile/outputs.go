package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Output is a file a program is about to write, for CheckOutputs.
type Output struct {
	// Label names the output in errors, e.g. the flag that gave it ("-o").
	Label string
	// Name is the file; "" means none (the output is skipped).
	Name string
	// Ext is the extension Name must have, in any case (".csv"); "" for any.
	Ext string
	// Updates is an input that Name may name: a file the program reads
	// and then rewrites (a checkpoint it resumes from).
	Updates string
}

// CheckOutputs checks, before a long computation, that its outputs can
// be written and clash with nothing: each must have its Ext and pass
// Check, no two may name the same file, and none may name one of the
// inputs ("" entries are skipped) other than the one it Updates. Files
// are compared by SameFile. Errors name outputs by their Label.
func CheckOutputs(outs []Output, inputs ...string) error {
	for i, p := range outs {
		if p.Name == "" {
			continue
		}
		if p.Ext != "" && !strings.EqualFold(filepath.Ext(p.Name), p.Ext) {
			return fmt.Errorf("%s %s: want a %s file", p.Label, p.Name, p.Ext)
		}
		if err := Check(p.Name); err != nil {
			return fmt.Errorf("%s %w", p.Label, err)
		}
		for _, q := range outs[:i] {
			if q.Name != "" && SameFile(p.Name, q.Name) {
				return fmt.Errorf("%s %s and %s %s name the same file; give different names", q.Label, q.Name, p.Label, p.Name)
			}
		}
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		for _, p := range outs {
			if p.Name != "" && SameFile(in, p.Name) && !(p.Updates != "" && in == p.Updates) {
				return fmt.Errorf("%s %s would overwrite the input %s", p.Label, p.Name, in)
			}
		}
	}
	return nil
}

// SameFile reports whether two paths name the same file: the same
// cleaned absolute path (whether or not it exists), or the same existing
// file (os.SameFile: hard links, symbolic links to it).
func SameFile(a, b string) bool {
	if pa, err := filepath.Abs(a); err == nil {
		if pb, err := filepath.Abs(b); err == nil && pa == pb {
			return true
		}
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
