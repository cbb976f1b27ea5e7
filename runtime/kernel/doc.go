// Package kernel holds the numeric kernels the layers run on: matrix
// multiply, the batch-1 vector-matrix product of a recurrent step, and
// elementwise float32 activations.
//
// Every kernel has a portable Go implementation (generic.go) whose doc
// comment gives the loop it computes. On amd64 with AVX2 and FMA the hot
// kernels run assembly fast paths (kernel_amd64.s), chosen once at start-up
// from CPUID; building with -tags noasm forces the Go implementations. The
// tests check every implementation against plain float64 reference loops.
//
// Keras' numpy backend is the reference the layers must reproduce, and
// recurrent models amplify last-bit differences, so the kernels follow
// numpy's float32 arithmetic where it is known: Exp, Sigmoid and Tanh are
// numpy's ufunc algorithms bit for bit (assembly and Go alike), and the
// assembly MatMul, MatMulPacked and VecMat sum each output from zero over k
// in order with fused multiply-adds, as OpenBLAS' sgemm kernels do,
// whenever k ≤ 256 or a (the left operand) has fewer than 10 rows.
//
// Conventions, after gonum's internal/asm: matrices are row-major float32
// with explicit leading dimensions; dst comes first and may alias a source
// of the same length; kernels allocate nothing on the heap and start no
// goroutines; a broken contract (a slice too short for the sizes given) is a
// programmer error and panics with a constant message.
package kernel
