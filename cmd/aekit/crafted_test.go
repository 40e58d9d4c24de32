package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crafted-file harness (issue 9): every file under fixtures/crafted
// (written by fixtures/crafted/gen.py and, for HDF5 internals, by the
// scripts of fixtures/crafted/hdf5) and every row of craftedFlags is run
// through the aekit command line in a child process, which must exit with
// status 2 (1 for a training failure), print exactly one line on standard
// error naming the file, leave no output, and stay within craftedTime and
// craftedRSS.
const (
	craftedDir  = "../../fixtures/crafted"
	craftedTime = 2 * time.Second
	craftedRSS  = 200 << 20 // bytes
)

// childEnv makes the test binary act as the aekit command (TestMain).
const childEnv = "AEKIT_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// craftedCase is one command run on hostile input. In args, {F} is the
// crafted file, {OUT} a fresh folder for outputs (which must stay as setup
// left it), {DATA} a small real data file, {MODEL} a small real model.
type craftedCase struct {
	name  string
	args  []string
	exit  int    // expected exit status; 0 means 2
	want  string // a substring of the error line; "" means the file's path
	setup func(t *testing.T, out string)
}

const (
	craftedData  = "../../fixtures/data/fashion-test.npy"
	craftedModel = "../../fixtures/keras/gen/k3_autoencoder.keras"
)

// craftedFiles gives the commands of files whose default (inspect and
// convert for models, predict for data, inspect and train --arch for
// architectures) does not fit.
var craftedFiles = map[string][][]string{
	"onnx_check_width.onnx": {{"check", "{F}"}},
	// inspect lists an architecture alone without allocating its weights
	// (TestInspectArchitecture); train --arch would allocate them.
	"arch_8x16384.json":   {{"train", "--arch", "{F}", "--data", "{DATA}", "-o", "{OUT}/m.keras", "--epochs", "1"}},
	"npy_5000_digits.npy": {{"predict", "{MODEL}", "-i", "{F}", "-o", "{OUT}/y.npy"}, {"train", "--layers", "8:relu|784:sigmoid", "--data", "{F}", "-o", "{OUT}/m.keras"}},
}

func defaultCommands(file string) [][]string {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".npy", ".npz":
		return [][]string{{"predict", "{MODEL}", "-i", "{F}", "-o", "{OUT}/y.npy"}, {"check", "{MODEL}", "-i", "{MODEL}.input.npy", "--expect", "{F}"}}
	case ".json":
		return [][]string{{"inspect", "{F}"}, {"train", "--arch", "{F}", "--data", "{DATA}", "-o", "{OUT}/m.keras", "--epochs", "1"}}
	}
	return [][]string{{"inspect", "{F}"}, {"convert", "{F}", "{OUT}/m.onnx"}}
}

func mkfifo(name string) func(t *testing.T, out string) {
	return func(t *testing.T, out string) {
		if err := syscall.Mkfifo(filepath.Join(out, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// craftedFlags are the cases made of flags rather than files.
var craftedFlags = []craftedCase{
	{name: "model is a FIFO", args: []string{"inspect", "{OUT}/m.keras"}, want: "named pipe", setup: mkfifo("m.keras")},
	{name: "model is a folder", args: []string{"inspect", "{OUT}/m.keras"}, want: "is a directory", setup: func(t *testing.T, out string) {
		os.Mkdir(filepath.Join(out, "m.keras"), 0o755)
	}},
	{name: "data is a FIFO", args: []string{"predict", "{MODEL}", "-i", "{OUT}/x.npy", "-o", "{OUT}/y.npy"}, want: "named pipe", setup: mkfifo("x.npy")},
	{name: "train data is a FIFO", args: []string{"train", "--layers", "8:relu|784:sigmoid", "--data", "{OUT}/x.npy", "-o", "{OUT}/m.keras"}, want: "named pipe", setup: mkfifo("x.npy")},
	{name: "arch /dev/zero", args: []string{"inspect", "../../fixtures/keras/gen/k3_seq.weights.h5", "--arch", "/dev/zero"}, want: "/dev/zero: not a regular file"},
	{name: "train arch /dev/zero", args: []string{"train", "--arch", "/dev/zero", "--data", "{DATA}", "-o", "{OUT}/m.keras"}, want: "/dev/zero: not a regular file"},
	{name: "resume /dev/zero", args: []string{"train", "--resume", "/dev/zero", "--data", "{DATA}", "-o", "{OUT}/m.keras"}, want: "/dev/zero: not a regular file"},
	{name: "threads 1000000", args: []string{"train", "--layers", "8:relu|784:sigmoid", "--data", "{DATA}", "-o", "{OUT}/m.keras", "--threads", "1000000"}, want: "--threads 1000000"},
	{name: "bench threads 1000000", args: []string{"bench", "--mode", "infer", "--threads", "1000000"}, want: "--threads 1000000"},
	{name: "-o a FIFO", args: []string{"convert", "{MODEL}", "{OUT}/m.onnx"}, want: "named pipe", setup: mkfifo("m.onnx")},
	{name: "-o a symlink", args: []string{"convert", "{MODEL}", "{OUT}/m.onnx"}, want: "symbolic link", setup: func(t *testing.T, out string) {
		os.Symlink(filepath.Join(out, "target.onnx"), filepath.Join(out, "m.onnx"))
	}},
	// A device node of its own (a copy of /dev/null, which needs root),
	// so that a regression replaces the copy, not the system's /dev/null.
	{name: "-o a device", args: []string{"predict", "{MODEL}", "-i", "{MODEL}.input.npy", "-o", "{OUT}/null.npy"}, want: "character device", setup: func(t *testing.T, out string) {
		if err := syscall.Mknod(filepath.Join(out, "null.npy"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
			t.Skipf("cannot make a device node (needs root): %v", err)
		}
	}},
	{name: "train -o a symlink to a device", args: []string{"train", "--layers", "8:relu|784:sigmoid", "--data", "{DATA}", "-o", "{OUT}/m.onnx"}, want: "symbolic link", setup: func(t *testing.T, out string) {
		os.Symlink("/dev/null", filepath.Join(out, "m.onnx"))
	}},
	{name: "checkpoint is -o", args: []string{"train", "--layers", "8:relu|784:sigmoid", "--data", "{DATA}", "-o", "{OUT}/m.keras", "--checkpoint", "{OUT}/m.keras"}, want: "same file"},
	{name: "checkpoint overwrites the data", args: []string{"train", "--layers", "8:relu|784:sigmoid", "--data", "{OUT}/x.npy", "--checkpoint", "{OUT}/x.npy", "-o", "{OUT}/m.keras"}, want: "would overwrite the input", setup: func(t *testing.T, out string) {
		b, err := os.ReadFile(craftedData)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(out, "x.npy"), b, 0o644)
	}},
	{name: "-o in a missing folder", args: []string{"train", "--layers", "8:relu|784:sigmoid", "--data", "{DATA}", "-o", "{OUT}/no/m.keras"}, want: "no such file or directory"},
	{name: "--history in a missing folder", args: []string{"train", "--layers", "8:relu|784:sigmoid", "--data", "{DATA}", "-o", "{OUT}/m.keras", "--history", "{OUT}/no/h.csv"}, want: "--history"},
	{name: "--plot in a missing folder", args: []string{"train", "--layers", "8:relu|784:sigmoid", "--data", "{DATA}", "-o", "{OUT}/m.keras", "--plot", "{OUT}/no/p.png"}, want: "--plot"},
	{name: "--recon on a non-image model", args: []string{"train", "--layers", "3:relu|6:sigmoid", "--data", "../../fixtures/keras/gen/k1_mlp.h5.input.npy", "--target", "../../fixtures/keras/gen/k1_mlp.h5.input.npy", "-o", "{OUT}/m.keras", "--recon", "{OUT}/r.png"}, want: "--recon: needs square images"},
	{name: "NaN loss", args: []string{"train", "--layers", "8:relu|784:linear", "--data", "{DATA}", "-o", "{OUT}/m.keras", "--epochs", "1", "--lr", "1e30", "--optimizer", "sgd", "--loss", "mse"}, exit: exitMismatch, want: "loss is not finite"},
	{name: "AEKIT_LIMITS typo", args: []string{"inspect", "{MODEL}", "ENV=AEKIT_LIMITS=MaxLayer=5"}, want: `unknown limit "MaxLayer"`},
}

// craftedCases lists every file under craftedDir with its commands, then
// the flag rows.
func craftedCases(t *testing.T) []craftedCase {
	var cases []craftedCase
	err := filepath.WalkDir(craftedDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".py", ".md", ".txt", ".sh":
			return nil // generators and notes
		}
		if strings.HasPrefix(d.Name(), ".") {
			return nil // .gitattributes
		}
		rel, _ := filepath.Rel(craftedDir, path)
		cmds, ok := craftedFiles[rel]
		if !ok {
			cmds = defaultCommands(path)
		}
		for _, c := range cmds {
			args := slices.Clone(c)
			for i := range args {
				args[i] = strings.ReplaceAll(args[i], "{F}", path)
			}
			cases = append(cases, craftedCase{name: rel + " " + c[0], args: args, want: path})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("only %d crafted cases under %s; run fixtures/crafted/gen.py", len(cases), craftedDir)
	}
	return append(cases, craftedFlags...)
}

func TestCraftedFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command line on every crafted file")
	}
	for _, c := range craftedCases(t) {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			if c.setup != nil {
				c.setup(t, out)
			}
			before := listDir(t, out)
			env := append(os.Environ(), childEnv+"=1")
			var args []string
			for _, a := range c.args {
				if v, ok := strings.CutPrefix(a, "ENV="); ok {
					env = append(env, v)
					continue
				}
				a = strings.NewReplacer("{OUT}", out, "{DATA}", craftedData, "{MODEL}", craftedModel).Replace(a)
				args = append(args, a)
			}
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Start()
			if err != nil {
				t.Fatal(err)
			}
			timer := time.AfterFunc(10*craftedTime, func() { cmd.Process.Kill() })
			cmd.Wait()
			timer.Stop()
			wall := time.Since(start)
			code := cmd.ProcessState.ExitCode()
			want := c.exit
			if want == 0 {
				want = exitUsage
			}
			line := strings.TrimRight(stderr.String(), "\n")
			if code != want {
				t.Errorf("aekit %s: exit %d, want %d; stderr: %.300s", strings.Join(args, " "), code, want, line)
			}
			if strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(line, "aekit ") {
				t.Errorf("aekit %s: stderr is not one line: %.500q", strings.Join(args, " "), stderr.String())
			}
			if w := strings.NewReplacer("{OUT}", out).Replace(c.want); !strings.Contains(line, w) {
				t.Errorf("aekit %s: error does not mention %q: %s", strings.Join(args, " "), w, line)
			}
			if after := listDir(t, out); !slices.Equal(before, after) {
				t.Errorf("aekit %s: outputs changed: %v → %v", strings.Join(args, " "), before, after)
			}
			if wall > craftedTime {
				t.Errorf("aekit %s: took %v, limit %v", strings.Join(args, " "), wall, craftedTime)
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				if rss := int64(ru.Maxrss) * 1024; rss > craftedRSS { // Linux reports KiB
					t.Errorf("aekit %s: max RSS %d MB, limit %d MB", strings.Join(args, " "), rss>>20, craftedRSS>>20)
				}
				t.Logf("exit %d, %v, max RSS %d MB: %s", code, wall.Round(time.Millisecond), ru.Maxrss>>10, line)
			}
		})
	}
}

// listDir lists a folder recursively: names, sizes and modes.
func listDir(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		st, err := os.Lstat(path)
		if err == nil {
			out = append(out, path+" "+st.Mode().String()+" "+string(rune('0'+st.Size()%10)))
		}
		return nil
	})
	return out
}

// TestStaleCheckpointTemps: a run removes the temporary checkpoint files
// a killed run left, and only those.
func TestStaleCheckpointTemps(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.keras")
	stale := filepath.Join(dir, ".m.keras.ckpt.tmp123456")
	other := filepath.Join(dir, ".other.ckpt.tmp1")
	for _, f := range []string{stale, other} {
		os.WriteFile(f, []byte("partial"), 0o644)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"train", "--layers", "4:relu|6:sigmoid", "--data", "../../fixtures/keras/gen/k1_mlp.h5.input.npy",
		"--target", "../../fixtures/keras/gen/k1_mlp.h5.input.npy", "--loss", "mse", "--epochs", "1", "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary checkpoint left: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temporary removed: %v", err)
	}
}

// TestLimitsEnv: a limit error says how to raise the limit, and
// AEKIT_LIMITS raises it.
func TestLimitsEnv(t *testing.T) {
	file := filepath.Join(craftedDir, "keras_many_layers.keras")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"inspect", file}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "keras.Options.MaxLayers); to accept it, set AEKIT_LIMITS=MaxLayers=20001") {
		t.Errorf("default: exit %d: %s", code, stderr.String())
	}
	t.Setenv(limitsEnv, "MaxLayers=20001")
	stderr.Reset()
	if code := run([]string{"inspect", file}, &stdout, &stderr); code != exitUsage || strings.Contains(stderr.String(), "MaxLayers") || !strings.Contains(stderr.String(), "model.weights.h5") {
		t.Errorf("raised: exit %d: %s", code, stderr.String())
	}
}
