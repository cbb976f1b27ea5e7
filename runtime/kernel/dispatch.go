package kernel

import (
	"os"
	"strings"
)

// EnvKernel names the environment variable that forces a kernel set:
// "generic" (the Go implementations), "avx2" (AVX2 + FMA assembly) or
// "avx512" (AVX-512 F/BW/DQ/VL assembly). It is read once, when the
// package initialises; a set the CPU cannot run falls back to the best one
// below it, and an empty or unknown value picks the best the CPU has.
// Name reports the set in use.
const EnvKernel = "RNNKIT_KERNEL"

// isa is an instruction-set level of the kernels.
type isa uint8

const (
	isaGo isa = iota
	isaAVX2
	isaAVX512
)

// kernelSet is one implementation of the kernels: which assembly they run
// and the layout its GEMM micro-kernel streams (PackedMatrix panels are laid
// out for one set). Sets are immutable; active is chosen once at start-up.
type kernelSet struct {
	isa  isa
	name string
	// nr is the column width of the packed b panels of the GEMM
	// micro-kernel (gemmMR rows by nr columns of c per tile).
	nr int
}

var (
	setGo     = &kernelSet{isa: isaGo, name: "generic", nr: 16}
	setAVX2   = &kernelSet{isa: isaAVX2, name: "avx2", nr: 16}
	setAVX512 = &kernelSet{isa: isaAVX512, name: "avx512", nr: 32}
)

// active is the kernel set of the exported functions, fixed at
// initialisation from the CPU's features and EnvKernel.
var active = chooseKernels(os.Getenv(EnvKernel), supportedSets())

// chooseKernels returns the set named by want among the supported sets
// (ordered from the Go set up), or the best supported set at or below it.
func chooseKernels(want string, supported []*kernelSet) *kernelSet {
	best := supported[len(supported)-1]
	limit := isa(255)
	switch strings.ToLower(strings.TrimSpace(want)) {
	case "generic", "go", "noasm":
		limit = isaGo
	case "avx2":
		limit = isaAVX2
	case "avx512":
		limit = isaAVX512
	}
	for i := len(supported) - 1; i >= 0; i-- {
		if supported[i].isa <= limit {
			return supported[i]
		}
	}
	return best
}

// Name reports the kernel set in use: "avx512", "avx2" or "generic".
func Name() string { return active.name }

// Accelerated reports whether assembly fast paths are in use.
func Accelerated() bool { return active.isa != isaGo }
