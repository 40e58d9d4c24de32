package modelfile

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aekit/aekit/internal/atomicfile"
	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/runtime"
)

// VAEFiles returns the files SaveVAE writes for path: path itself for a
// .keras file, which holds both models; else STEM.encoder.EXT and
// STEM.decoder.EXT, where EXT is path's extension.
func VAEFiles(path string) (encoder, decoder string) {
	ext := filepath.Ext(path)
	if strings.EqualFold(ext, ".keras") {
		return path, path
	}
	stem := strings.TrimSuffix(path, ext)
	return stem + ".encoder" + ext, stem + ".decoder" + ext
}

// MarshalVAE returns what SaveVAE would write for path, writing nothing:
// for a .keras path one Keras 3 file holding the whole VAE
// (keras.WriteVAE) as enc, dec being nil; for other paths the files of
// the encoder and the decoder (VAEFiles) in the format path's extension
// selects (Marshal), an ONNX encoder having two outputs, z_mean and
// z_log_var, the halves of its last layer. encoder and decoder are a VAE
// as train.BuildVAE makes it. A caller saving a VAE after training calls
// it first with the models as they start, as Marshal. Errors name the
// file.
func MarshalVAE(path string, encoder, decoder *runtime.Model) (enc, dec []byte, err error) {
	encPath, decPath := VAEFiles(path)
	if encPath == decPath {
		var buf bytes.Buffer
		if err := keras.WriteVAE(&buf, encoder, decoder); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return buf.Bytes(), nil, nil
	}
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		enc, err = onnx.Marshal(encoder, &onnx.ExportOptions{SplitOutputs: []string{"z_mean", "z_log_var"}})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", encPath, err)
		}
	} else if enc, err = Marshal(encPath, encoder, nil); err != nil {
		return nil, nil, err
	}
	if dec, err = Marshal(decPath, decoder, nil); err != nil {
		return nil, nil, err
	}
	return enc, dec, nil
}

// SaveVAE writes a variational autoencoder's encoder and decoder for path
// (see MarshalVAE and VAEFiles), each file through a temporary file, so
// that a failure leaves no partial file; the encoder is written first.
func SaveVAE(path string, encoder, decoder *runtime.Model) error {
	enc, dec, err := MarshalVAE(path, encoder, decoder)
	if err != nil {
		return err
	}
	encPath, decPath := VAEFiles(path)
	if err := atomicfile.WriteFile(encPath, enc); err != nil {
		return err
	}
	if dec == nil {
		return nil
	}
	return atomicfile.WriteFile(decPath, dec)
}
