package convert

import (
	"strconv"
	"strings"
)

// ParseOptions controls how a model configuration is read.
type ParseOptions struct {
	// KerasVersion, when set, overrides the Keras version the file
	// records: defaults and activation definitions of that version are
	// applied ("2.1.2", "3.16.0"). Use it for files that record no version.
	KerasVersion string
	// WriterVersion is the Keras version the container records (the HDF5
	// keras_version attribute, metadata.json). Readers set it; it is used
	// when KerasVersion is empty. When both are empty, the configuration's
	// own "keras_version" key is used, and failing that the version is
	// guessed from the configuration's form (Keras 1 option names, Keras 3
	// modules).
	WriterVersion string
	// File names the source in error messages.
	File string
	// Limits bound the configuration's sizes; zero fields mean
	// DefaultLimits.
	Limits Limits
}

// version is a parsed Keras version string. Suffixes ("2.2.4-tf") are
// kept as the tf flag; unparsable parts read as zero.
type version struct {
	raw                 string
	major, minor, patch int
	tf                  bool // tf.keras ("-tf" suffix, or 2.4 and later)
	tfjs                bool
}

// parseVersion reads "2.1.2", "2.2.4-tf", "3.16.0", "tfjs-layers 4.20.0".
func parseVersion(s string) version {
	v := version{raw: s}
	if strings.Contains(s, "tfjs") || strings.Contains(s, "tensorflow.js") || strings.Contains(s, "TensorFlow.js") {
		// TF.js follows Keras 2 semantics (hard_sigmoid 0.2x+0.5, no
		// reset_after GRU) whatever its own version number says.
		v.tfjs = true
		v.major, v.minor, v.tf = 2, 4, true
		return v
	}
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "-+ "); i >= 0 {
		if strings.Contains(s[i:], "tf") {
			v.tf = true
		}
		s = s[:i]
	}
	parts := strings.SplitN(s, ".", 3)
	nums := []*int{&v.major, &v.minor, &v.patch}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			break
		}
		*nums[i] = n
	}
	if v.major == 2 && v.minor >= 4 || v.major > 2 {
		v.tf = v.tf || v.major == 2
	}
	return v
}

// keras1 reports Keras 1 semantics.
func (v version) keras1() bool { return v.major <= 1 }

// legacyActivations reports whether "hard_sigmoid" means clip(0.2x+0.5):
// every writer before Keras 3.
func (v version) legacyActivations() bool { return v.major < 3 }

// multiBackend2 reports multi-backend Keras 2.0-2.3 (not tf.keras).
func (v version) multiBackend2() bool { return v.major == 2 && !v.tf }

// gruResetAfterDefault is GRU's reset_after when the config omits it:
// false in Keras 1 and multi-backend Keras 2 (absent before 2.1.5), true
// in tf.keras 2.x and Keras 3.
func (v version) gruResetAfterDefault() bool { return !(v.keras1() || v.multiBackend2()) }

// recurrentActivationDefault is the LSTM/GRU recurrent_activation when the
// config omits it.
func (v version) recurrentActivationDefault() string {
	if v.keras1() || v.multiBackend2() {
		return "hard_sigmoid_keras2"
	}
	return "sigmoid"
}
