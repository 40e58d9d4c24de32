package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/aekit/aekit/internal/golden"
	pb "github.com/aekit/aekit/internal/onnxpb"
	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/onnx"
)

// TestGoldenInspect compares the output of aekit inspect, as a table and
// with --json, with testdata/golden/inspect for a Keras 3 .keras nested
// autoencoder, a Keras 2 .h5 one, a Keras 3 weights-only file with its
// architecture, a part of a VAE, the whole VAE, its encoder and an
// architecture alone (listed from keras.Describe), an ONNX graph with an
// op aekit does not read (listed from onnx.DescribeFile), and an ONNX file aekit wrote (with
// producer_version pinned, since it otherwise follows the build). Accept
// an intended change with go test -run Golden -update.
func TestGoldenInspect(t *testing.T) {
	const gen = "../../fixtures/keras/gen/"
	dir := t.TempDir()
	m, _, err := modelfile.Open(gen+"k2_nested_autoencoder.h5", nil)
	if err != nil {
		t.Fatal(err)
	}
	ox := filepath.Join(dir, "k2_nested_autoencoder.onnx")
	if err := onnx.WriteFile(ox, m, &onnx.ExportOptions{ProducerVersion: "golden"}); err != nil {
		t.Fatal(err)
	}
	erf := filepath.Join(dir, "erf.onnx")
	writeWithErf(t, ox, erf)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"k3_autoencoder.keras", []string{gen + "k3_autoencoder.keras"}},
		{"k2_nested_autoencoder.h5", []string{gen + "k2_nested_autoencoder.h5"}},
		{"k3_seq.weights.h5", []string{gen + "k3_seq.weights.h5", "--arch", gen + "k3_seq_config.json"}},
		{"k3_vae.keras.encoder.z_mean", []string{gen + "k3_vae.keras", "--model", "encoder", "--output", "z_mean"}},
		// Models that do not run whole, listed from keras.Describe: a
		// VAE (a graph with a Lambda), its encoder (three outputs), an
		// architecture alone.
		{"k3_vae.keras", []string{gen + "k3_vae.keras"}},
		{"k3_vae.keras.encoder", []string{gen + "k3_vae.keras", "--model", "encoder"}},
		{"k3_seq_config.json", []string{gen + "k3_seq_config.json"}},
		{"aekit.onnx", []string{ox}},
		// An ONNX graph with an op aekit does not read: listed node by node.
		{"erf.onnx", []string{erf}},
	} {
		for _, asJSON := range []bool{false, true} {
			name, args := c.name+".txt", append([]string{"inspect"}, c.args...)
			if asJSON {
				name, args = c.name+".json", append(args, "--json")
			}
			t.Run(name, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				if code := run(args, &stdout, &stderr); code != exitOK {
					t.Fatalf("aekit %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
				}
				got := strings.ReplaceAll(stdout.String(), dir, "TMP")
				golden.Check(t, filepath.Join("testdata", "golden", "inspect", name), []byte(got))
				// The same model on standard input: the same
				// description, named "-".
				setStdin(t, c.args[0])
				stdinArgs := append([]string{"inspect", "-"}, args[2:]...)
				var o, e bytes.Buffer
				if code := run(stdinArgs, &o, &e); code != exitOK {
					t.Fatalf("aekit %s < %s: exit %d: %s", strings.Join(stdinArgs, " "), c.args[0], code, e.String())
				}
				if want := strings.ReplaceAll(stdout.String(), strconv.Quote(c.args[0]), `"-"`); o.String() != want {
					t.Errorf("aekit %s < %s:\n%s\nwant\n%s", strings.Join(stdinArgs, " "), c.args[0], o.String(), want)
				}
			})
		}
	}
}

// writeWithErf writes the ONNX model in src to dst with an Erf node (an
// op aekit does not read) after its first node.
func writeWithErf(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	g := mp.Graph
	out := g.Node[0].Output[0]
	for _, n := range g.Node[1:] {
		for i, in := range n.Input {
			if in == out {
				n.Input[i] = out + "_erf"
			}
		}
	}
	erf := &pb.NodeProto{Name: "erf", OpType: "Erf", Input: []string{out}, Output: []string{out + "_erf"}}
	g.Node = append([]*pb.NodeProto{g.Node[0], erf}, g.Node[1:]...)
	if b, err = proto.Marshal(&mp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
