// Package kernel holds the numeric kernels the layers run on: matrix
// multiply, the batch-1 vector-matrix product of a recurrent step, and
// elementwise float32 activations.
//
// Every kernel has a portable Go implementation (generic.go) whose doc
// comment gives the loop it computes. On amd64 the hot kernels run
// assembly: an AVX-512 set (F/BW/DQ/VL: a 6×32 zmm GEMM micro-kernel, zmm
// matrix-vector products and activations; kernel_avx512_amd64.s) or an
// AVX2 + FMA set (6×16 ymm; kernel_amd64.s). The set is chosen once, when
// the package initialises, from the CPU's features (golang.org/x/sys/cpu)
// and the RNNKIT_KERNEL environment variable (EnvKernel), which can force a
// lower set (avx2 or generic) on a machine that has a higher one; Name
// reports the choice. Matrices packed by PackMatrix are laid out for the set
// in use. Building with -tags noasm keeps the Go implementations only. The
// tests run every set the machine has against plain float64 reference
// loops, and check that the AVX-512 and AVX2 sets give the same bits: they
// perform the same fused multiply-adds in the same order.
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
