//go:build amd64 && !noasm

#include "textflag.h"

// AVX2 + FMA fast paths. Each function's Go declaration in kernel_amd64.go
// states what it computes; the Go versions in generic.go are the reference.
// Operand order is Go's: sources first, destination last.


#define LOG2E ·avxConst+0(SB)
#define ONE ·avxConst+32(SB)
#define INF ·avxConst+64(SB)
#define ABSMASK ·avxConst+96(SB)
#define SIGNMASK ·avxConst+128(SB)
#define EXPHI ·avxConst+160(SB)
#define EXPLO ·avxConst+192(SB)
#define EXPMAGIC ·avxConst+224(SB)
#define EXPC1 ·avxConst+256(SB)
#define EXPC2 ·avxConst+288(SB)
#define EXPP0 ·avxConst+320(SB)
#define EXPP1 ·avxConst+352(SB)
#define EXPP2 ·avxConst+384(SB)
#define EXPP3 ·avxConst+416(SB)
#define EXPP4 ·avxConst+448(SB)
#define EXPP5 ·avxConst+480(SB)
#define EXPQ1 ·avxConst+512(SB)
#define EXPQ2 ·avxConst+544(SB)
#define EXPM125 ·avxConst+576(SB)
#define I1 ·avxConst+608(SB)

// func gemm6x16(kc int, a, b, c *float32, ldc int, accumulate bool)
//
// The micro-kernel: a 6×16 tile of c (row stride ldc floats) (+)= the
// packed a panel (kc steps of 6 row values) times the packed b panel (kc
// steps of 16 column values). Twelve accumulators Y4..Y15 hold the tile.
TEXT ·gemm6x16(SB), NOSPLIT, $0-41
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	CMPQ CX, $2
	JLT  gemm_one

gemm_two:
	VMOVUPS      (DI), Y0
	VMOVUPS      32(DI), Y1
	VBROADCASTSS (SI), Y2
	VBROADCASTSS 4(SI), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y1, Y2, Y5
	VFMADD231PS  Y0, Y3, Y6
	VFMADD231PS  Y1, Y3, Y7
	VBROADCASTSS 8(SI), Y2
	VBROADCASTSS 12(SI), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y1, Y2, Y9
	VFMADD231PS  Y0, Y3, Y10
	VFMADD231PS  Y1, Y3, Y11
	VBROADCASTSS 16(SI), Y2
	VBROADCASTSS 20(SI), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y1, Y2, Y13
	VFMADD231PS  Y0, Y3, Y14
	VFMADD231PS  Y1, Y3, Y15
	VMOVUPS      64(DI), Y0
	VMOVUPS      96(DI), Y1
	VBROADCASTSS 24(SI), Y2
	VBROADCASTSS 28(SI), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y1, Y2, Y5
	VFMADD231PS  Y0, Y3, Y6
	VFMADD231PS  Y1, Y3, Y7
	VBROADCASTSS 32(SI), Y2
	VBROADCASTSS 36(SI), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y1, Y2, Y9
	VFMADD231PS  Y0, Y3, Y10
	VFMADD231PS  Y1, Y3, Y11
	VBROADCASTSS 40(SI), Y2
	VBROADCASTSS 44(SI), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y1, Y2, Y13
	VFMADD231PS  Y0, Y3, Y14
	VFMADD231PS  Y1, Y3, Y15
	ADDQ         $48, SI
	ADDQ         $128, DI
	SUBQ         $2, CX
	CMPQ         CX, $2
	JGE          gemm_two

gemm_one:
	TESTQ        CX, CX
	JEQ          gemm_store
	VMOVUPS      (DI), Y0
	VMOVUPS      32(DI), Y1
	VBROADCASTSS (SI), Y2
	VBROADCASTSS 4(SI), Y3
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y1, Y2, Y5
	VFMADD231PS  Y0, Y3, Y6
	VFMADD231PS  Y1, Y3, Y7
	VBROADCASTSS 8(SI), Y2
	VBROADCASTSS 12(SI), Y3
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y1, Y2, Y9
	VFMADD231PS  Y0, Y3, Y10
	VFMADD231PS  Y1, Y3, Y11
	VBROADCASTSS 16(SI), Y2
	VBROADCASTSS 20(SI), Y3
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y1, Y2, Y13
	VFMADD231PS  Y0, Y3, Y14
	VFMADD231PS  Y1, Y3, Y15

gemm_store:
	MOVBLZX accumulate+40(FP), AX
	TESTQ   AX, AX
	JEQ     gemm_write
	VADDPS  (DX), Y4, Y4
	VADDPS  32(DX), Y5, Y5
	ADDQ    R8, DX
	VADDPS  (DX), Y6, Y6
	VADDPS  32(DX), Y7, Y7
	ADDQ    R8, DX
	VADDPS  (DX), Y8, Y8
	VADDPS  32(DX), Y9, Y9
	ADDQ    R8, DX
	VADDPS  (DX), Y10, Y10
	VADDPS  32(DX), Y11, Y11
	ADDQ    R8, DX
	VADDPS  (DX), Y12, Y12
	VADDPS  32(DX), Y13, Y13
	ADDQ    R8, DX
	VADDPS  (DX), Y14, Y14
	VADDPS  32(DX), Y15, Y15
	MOVQ    c+24(FP), DX

gemm_write:
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R8, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ    R8, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ    R8, DX
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	ADDQ    R8, DX
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, 32(DX)
	ADDQ    R8, DX
	VMOVUPS Y14, (DX)
	VMOVUPS Y15, 32(DX)
	VZEROUPPER
	RET

// func vecMatRows(y, x, w *float32, k, n, ldw int)
//
// y[:n] += x[:k] · w[k×n] (row stride ldw), streaming w row by row: four rows at a time,
// each 32-column chunk of y loaded once, updated by the four rows and
// stored; then 8-column chunks; then a masked chunk for the last n%8.
TEXT ·vecMatRows(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ k+24(FP), CX
	MOVQ n+32(FP), DX

	// Y11 = mask of the first n%8 lanes.
	MOVQ    DX, AX
	ANDQ    $7, AX
	MOVQ    $8, R13
	SUBQ    AX, R13
	LEAQ    ·tailMask(SB), R12
	VMOVDQU (R12)(R13*4), Y11

	MOVQ DX, R10
	ANDQ $-32, R10
	SHLQ $2, R10   // bytes covered by 32-column chunks
	MOVQ DX, R11
	ANDQ $-8, R11
	SHLQ $2, R11   // bytes covered by 8-column chunks
	MOVQ DX, R12
	ANDQ $7, R12   // n%8, for the masked tail
	MOVQ ldw+40(FP), DX
	SHLQ $2, DX    // row stride in bytes

vm_rows4:
	CMPQ         CX, $4
	JLT          vm_rows1
	VBROADCASTSS (SI), Y12
	VBROADCASTSS 4(SI), Y13
	VBROADCASTSS 8(SI), Y14
	VBROADCASTSS 12(SI), Y15
	LEAQ         (R8)(DX*1), AX
	LEAQ         (AX)(DX*1), BX
	LEAQ         (BX)(DX*1), R9
	XORQ         R13, R13

vm4_32:
	CMPQ        R13, R10
	JGE         vm4_8
	VMOVUPS     (DI)(R13*1), Y0
	VMOVUPS     32(DI)(R13*1), Y1
	VMOVUPS     64(DI)(R13*1), Y2
	VMOVUPS     96(DI)(R13*1), Y3
	VFMADD231PS (R8)(R13*1), Y12, Y0
	VFMADD231PS 32(R8)(R13*1), Y12, Y1
	VFMADD231PS 64(R8)(R13*1), Y12, Y2
	VFMADD231PS 96(R8)(R13*1), Y12, Y3
	VFMADD231PS (AX)(R13*1), Y13, Y0
	VFMADD231PS 32(AX)(R13*1), Y13, Y1
	VFMADD231PS 64(AX)(R13*1), Y13, Y2
	VFMADD231PS 96(AX)(R13*1), Y13, Y3
	VFMADD231PS (BX)(R13*1), Y14, Y0
	VFMADD231PS 32(BX)(R13*1), Y14, Y1
	VFMADD231PS 64(BX)(R13*1), Y14, Y2
	VFMADD231PS 96(BX)(R13*1), Y14, Y3
	VFMADD231PS (R9)(R13*1), Y15, Y0
	VFMADD231PS 32(R9)(R13*1), Y15, Y1
	VFMADD231PS 64(R9)(R13*1), Y15, Y2
	VFMADD231PS 96(R9)(R13*1), Y15, Y3
	VMOVUPS     Y0, (DI)(R13*1)
	VMOVUPS     Y1, 32(DI)(R13*1)
	VMOVUPS     Y2, 64(DI)(R13*1)
	VMOVUPS     Y3, 96(DI)(R13*1)
	ADDQ        $128, R13
	JMP         vm4_32

vm4_8:
	CMPQ        R13, R11
	JGE         vm4_tail
	VMOVUPS     (DI)(R13*1), Y0
	VFMADD231PS (R8)(R13*1), Y12, Y0
	VFMADD231PS (AX)(R13*1), Y13, Y0
	VFMADD231PS (BX)(R13*1), Y14, Y0
	VFMADD231PS (R9)(R13*1), Y15, Y0
	VMOVUPS     Y0, (DI)(R13*1)
	ADDQ        $32, R13
	JMP         vm4_8

vm4_tail:
	TESTQ       R12, R12
	JEQ         vm4_next
	VMASKMOVPS  (DI)(R13*1), Y11, Y0
	VMASKMOVPS  (R8)(R13*1), Y11, Y4
	VMASKMOVPS  (AX)(R13*1), Y11, Y5
	VMASKMOVPS  (BX)(R13*1), Y11, Y6
	VMASKMOVPS  (R9)(R13*1), Y11, Y7
	VFMADD231PS Y4, Y12, Y0
	VFMADD231PS Y5, Y13, Y0
	VFMADD231PS Y6, Y14, Y0
	VFMADD231PS Y7, Y15, Y0
	VMASKMOVPS  Y0, Y11, (DI)(R13*1)

vm4_next:
	ADDQ $16, SI
	LEAQ (R9)(DX*1), R8
	SUBQ $4, CX
	JMP  vm_rows4

vm_rows1:
	TESTQ        CX, CX
	JEQ          vm_done
	VBROADCASTSS (SI), Y12
	XORQ         R13, R13

vm1_32:
	CMPQ        R13, R10
	JGE         vm1_8
	VMOVUPS     (DI)(R13*1), Y0
	VMOVUPS     32(DI)(R13*1), Y1
	VMOVUPS     64(DI)(R13*1), Y2
	VMOVUPS     96(DI)(R13*1), Y3
	VFMADD231PS (R8)(R13*1), Y12, Y0
	VFMADD231PS 32(R8)(R13*1), Y12, Y1
	VFMADD231PS 64(R8)(R13*1), Y12, Y2
	VFMADD231PS 96(R8)(R13*1), Y12, Y3
	VMOVUPS     Y0, (DI)(R13*1)
	VMOVUPS     Y1, 32(DI)(R13*1)
	VMOVUPS     Y2, 64(DI)(R13*1)
	VMOVUPS     Y3, 96(DI)(R13*1)
	ADDQ        $128, R13
	JMP         vm1_32

vm1_8:
	CMPQ        R13, R11
	JGE         vm1_tail
	VMOVUPS     (DI)(R13*1), Y0
	VFMADD231PS (R8)(R13*1), Y12, Y0
	VMOVUPS     Y0, (DI)(R13*1)
	ADDQ        $32, R13
	JMP         vm1_8

vm1_tail:
	TESTQ       R12, R12
	JEQ         vm1_next
	VMASKMOVPS  (DI)(R13*1), Y11, Y0
	VMASKMOVPS  (R8)(R13*1), Y11, Y4
	VFMADD231PS Y4, Y12, Y0
	VMASKMOVPS  Y0, Y11, (DI)(R13*1)

vm1_next:
	ADDQ $4, SI
	ADDQ DX, R8
	DECQ CX
	JMP  vm_rows1

vm_done:
	VZEROUPPER
	RET

// func vecMatPanels(y, x, w *float32, k, n, ldw int)
//
// y[:n] += x[:k] · w[k×n] (row stride ldw) for k a multiple of 8 and n a
// multiple of 64: eight rows at a time, each 64-column block of y held in
// Y0..Y7 while the eight rows' values (x broadcast in Y8..Y15) are added,
// so y is loaded and stored once per eight rows and w streams in eight
// sequential row streams.
TEXT ·vecMatPanels(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), R10
	MOVQ k+24(FP), CX
	MOVQ n+32(FP), R11
	SHLQ $2, R11            // row bytes to cover
	MOVQ ldw+40(FP), AX
	SHLQ $2, AX             // row stride in bytes
	LEAQ (AX)(AX*2), BX     // three rows
	SHRQ $3, CX
	JEQ  vp_done

vp_panel:
	VBROADCASTSS (SI), Y8
	VBROADCASTSS 4(SI), Y9
	VBROADCASTSS 8(SI), Y10
	VBROADCASTSS 12(SI), Y11
	VBROADCASTSS 16(SI), Y12
	VBROADCASTSS 20(SI), Y13
	VBROADCASTSS 24(SI), Y14
	VBROADCASTSS 28(SI), Y15
	MOVQ         R10, R8
	LEAQ         (R10)(AX*4), R9
	MOVQ         y+0(FP), DI
	MOVQ         R11, DX

vp_block:
	VMOVUPS     0(DI), Y0
	VMOVUPS     32(DI), Y1
	VMOVUPS     64(DI), Y2
	VMOVUPS     96(DI), Y3
	VMOVUPS     128(DI), Y4
	VMOVUPS     160(DI), Y5
	VMOVUPS     192(DI), Y6
	VMOVUPS     224(DI), Y7
	VFMADD231PS (R8), Y8, Y0
	VFMADD231PS 32(R8), Y8, Y1
	VFMADD231PS 64(R8), Y8, Y2
	VFMADD231PS 96(R8), Y8, Y3
	VFMADD231PS 128(R8), Y8, Y4
	VFMADD231PS 160(R8), Y8, Y5
	VFMADD231PS 192(R8), Y8, Y6
	VFMADD231PS 224(R8), Y8, Y7
	VFMADD231PS (R8)(AX*1), Y9, Y0
	VFMADD231PS 32(R8)(AX*1), Y9, Y1
	VFMADD231PS 64(R8)(AX*1), Y9, Y2
	VFMADD231PS 96(R8)(AX*1), Y9, Y3
	VFMADD231PS 128(R8)(AX*1), Y9, Y4
	VFMADD231PS 160(R8)(AX*1), Y9, Y5
	VFMADD231PS 192(R8)(AX*1), Y9, Y6
	VFMADD231PS 224(R8)(AX*1), Y9, Y7
	VFMADD231PS (R8)(AX*2), Y10, Y0
	VFMADD231PS 32(R8)(AX*2), Y10, Y1
	VFMADD231PS 64(R8)(AX*2), Y10, Y2
	VFMADD231PS 96(R8)(AX*2), Y10, Y3
	VFMADD231PS 128(R8)(AX*2), Y10, Y4
	VFMADD231PS 160(R8)(AX*2), Y10, Y5
	VFMADD231PS 192(R8)(AX*2), Y10, Y6
	VFMADD231PS 224(R8)(AX*2), Y10, Y7
	VFMADD231PS (R8)(BX*1), Y11, Y0
	VFMADD231PS 32(R8)(BX*1), Y11, Y1
	VFMADD231PS 64(R8)(BX*1), Y11, Y2
	VFMADD231PS 96(R8)(BX*1), Y11, Y3
	VFMADD231PS 128(R8)(BX*1), Y11, Y4
	VFMADD231PS 160(R8)(BX*1), Y11, Y5
	VFMADD231PS 192(R8)(BX*1), Y11, Y6
	VFMADD231PS 224(R8)(BX*1), Y11, Y7
	VFMADD231PS (R9), Y12, Y0
	VFMADD231PS 32(R9), Y12, Y1
	VFMADD231PS 64(R9), Y12, Y2
	VFMADD231PS 96(R9), Y12, Y3
	VFMADD231PS 128(R9), Y12, Y4
	VFMADD231PS 160(R9), Y12, Y5
	VFMADD231PS 192(R9), Y12, Y6
	VFMADD231PS 224(R9), Y12, Y7
	VFMADD231PS (R9)(AX*1), Y13, Y0
	VFMADD231PS 32(R9)(AX*1), Y13, Y1
	VFMADD231PS 64(R9)(AX*1), Y13, Y2
	VFMADD231PS 96(R9)(AX*1), Y13, Y3
	VFMADD231PS 128(R9)(AX*1), Y13, Y4
	VFMADD231PS 160(R9)(AX*1), Y13, Y5
	VFMADD231PS 192(R9)(AX*1), Y13, Y6
	VFMADD231PS 224(R9)(AX*1), Y13, Y7
	VFMADD231PS (R9)(AX*2), Y14, Y0
	VFMADD231PS 32(R9)(AX*2), Y14, Y1
	VFMADD231PS 64(R9)(AX*2), Y14, Y2
	VFMADD231PS 96(R9)(AX*2), Y14, Y3
	VFMADD231PS 128(R9)(AX*2), Y14, Y4
	VFMADD231PS 160(R9)(AX*2), Y14, Y5
	VFMADD231PS 192(R9)(AX*2), Y14, Y6
	VFMADD231PS 224(R9)(AX*2), Y14, Y7
	VFMADD231PS (R9)(BX*1), Y15, Y0
	VFMADD231PS 32(R9)(BX*1), Y15, Y1
	VFMADD231PS 64(R9)(BX*1), Y15, Y2
	VFMADD231PS 96(R9)(BX*1), Y15, Y3
	VFMADD231PS 128(R9)(BX*1), Y15, Y4
	VFMADD231PS 160(R9)(BX*1), Y15, Y5
	VFMADD231PS 192(R9)(BX*1), Y15, Y6
	VFMADD231PS 224(R9)(BX*1), Y15, Y7
	VMOVUPS     Y0, 0(DI)
	VMOVUPS     Y1, 32(DI)
	VMOVUPS     Y2, 64(DI)
	VMOVUPS     Y3, 96(DI)
	VMOVUPS     Y4, 128(DI)
	VMOVUPS     Y5, 160(DI)
	VMOVUPS     Y6, 192(DI)
	VMOVUPS     Y7, 224(DI)
	ADDQ $256, DI
	ADDQ $256, R8
	ADDQ $256, R9
	SUBQ $256, DX
	JNE  vp_block

	ADDQ $32, SI
	LEAQ (R10)(AX*8), R10
	DECQ CX
	JNE  vp_panel

vp_done:
	VZEROUPPER
	RET

// EXP sets Y3 = exp(Y0) using Y1, Y2, Y4, Y5, Y6 as temporaries; Y0 is
// kept. Same steps as exp32 in generic.go (numpy's float32 exp): q =
// round(x·log2e) by adding and subtracting 1.5·2^23, r = x + q·c1 + q·c2
// with FMAs, p = P(r)/Q(r), then p·2^q: q ≥ -125 goes into the exponent
// bits exactly, and the rest, 2^(-125-q) ≤ 2^25, divides once (1 when
// q ≥ -125), which rounds results in the denormals once. Overflow gives
// +Inf and underflow 0 by compares; NaN comes back as itself.
#define EXP \
	VMULPS       LOG2E, Y0, Y1; \
	VADDPS       EXPMAGIC, Y1, Y1; \
	VSUBPS       EXPMAGIC, Y1, Y1; \
	VCMPPS       $0x1d, EXPHI, Y0, Y4; \
	VCMPPS       $0x12, EXPLO, Y0, Y5; \
	VORPS        Y5, Y4, Y4; \
	VCMPPS       $3, Y0, Y0, Y5; \
	VORPS        Y5, Y4, Y4; \
	VANDNPS      Y1, Y4, Y1; \
	VMOVAPS      Y0, Y2; \
	VFMADD231PS  EXPC1, Y1, Y2; \
	VFMADD231PS  EXPC2, Y1, Y2; \
	VMOVUPS      EXPP5, Y3; \
	VFMADD213PS  EXPP4, Y2, Y3; \
	VFMADD213PS  EXPP3, Y2, Y3; \
	VFMADD213PS  EXPP2, Y2, Y3; \
	VFMADD213PS  EXPP1, Y2, Y3; \
	VFMADD213PS  EXPP0, Y2, Y3; \
	VMOVUPS      EXPQ2, Y4; \
	VFMADD213PS  EXPQ1, Y2, Y4; \
	VFMADD213PS  ONE, Y2, Y4; \
	VDIVPS       Y4, Y3, Y3; \
	VMOVUPS      EXPM125, Y4; \
	VSUBPS       Y1, Y4, Y5; \
	VMAXPS       Y1, Y4, Y1; \
	VXORPS       Y6, Y6, Y6; \
	VMAXPS       Y6, Y5, Y5; \
	VCVTPS2DQ    Y5, Y5; \
	VMOVUPS      I1, Y6; \
	VPSLLVD      Y5, Y6, Y5; \
	VCVTDQ2PS    Y5, Y5; \
	VCVTPS2DQ    Y1, Y1; \
	VPSLLD       $23, Y1, Y1; \
	VPADDD       Y1, Y3, Y3; \
	VDIVPS       Y5, Y3, Y3; \
	VCMPPS       $0x1d, EXPHI, Y0, Y4; \
	VMOVUPS      INF, Y1; \
	VBLENDVPS    Y4, Y1, Y3, Y3; \
	VCMPPS       $0x12, EXPLO, Y0, Y4; \
	VANDNPS      Y3, Y4, Y3; \
	VCMPPS       $3, Y0, Y0, Y4; \
	VBLENDVPS    Y4, Y0, Y3, Y3

// func expAVX2(dst, src *float32, n int)
// dst[i] = exp(src[i]) for i < n, n a multiple of 8.
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ  exp_done

exp_loop:
	VMOVUPS (SI), Y0
	EXP
	VMOVUPS Y3, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNE     exp_loop

exp_done:
	VZEROUPPER
	RET

// func sigmoidAVX2(dst, src *float32, n int)
// dst[i] = 1 / (1 + exp(-src[i])) for i < n, n a multiple of 8.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ  sig_done

sig_loop:
	VMOVUPS (SI), Y0
	VXORPS  SIGNMASK, Y0, Y0
	EXP
	VMOVUPS ONE, Y5
	VADDPS  Y5, Y3, Y3
	VDIVPS  Y3, Y5, Y3
	VMOVUPS Y3, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNE     sig_loop

sig_done:
	VZEROUPPER
	RET

// LUT32 sets dst to row row of tanhLUT (AX), 32 values, at the indices
// in Y1: VPERMPS picks within each quarter by the index's low 3 bits, then
// bit 3 (sign of Y8) and bit 4 (sign of Y5) choose the quarter. Y6 and Y7
// are temporaries.
#define LUT32(row, dst) \
	VPERMPS   row(AX), Y1, Y6; \
	VPERMPS   row+32(AX), Y1, Y7; \
	VBLENDVPS Y8, Y7, Y6, Y6; \
	VPERMPS   row+64(AX), Y1, Y7; \
	VPERMPS   row+96(AX), Y1, dst; \
	VBLENDVPS Y8, dst, Y7, Y7; \
	VBLENDVPS Y5, Y7, Y6, dst

// func tanhAVX2(dst, src *float32, n int)
// dst[i] = tanh(src[i]) for i < n, n a multiple of 8, as tanh32 does it:
// numpy's float32 tanh, a degree-6 polynomial in |x| - b per interval of
// |x| (coefficients looked up in tanhLUT), 1 beyond the table, x's sign,
// and NaN kept.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ  tanh_done
	LEAQ ·tanhLUT(SB), AX
	VPBROADCASTD ·tanhConst+0(SB), Y10
	VPBROADCASTD ·tanhConst+4(SB), Y11
	VPBROADCASTD ·tanhConst+8(SB), Y12
	VPBROADCASTD ·tanhConst+12(SB), Y13
	VPBROADCASTD ·tanhConst+16(SB), Y14
	VPXOR        Y15, Y15, Y15

tanh_loop:
	VMOVUPS  (SI), Y0
	VPAND    Y10, Y0, Y1
	VPCMPGTD Y13, Y1, Y9
	VPSUBD   Y11, Y1, Y1
	VPMAXSD  Y15, Y1, Y1
	VPMINSD  Y12, Y1, Y1
	VPSRLD   $21, Y1, Y1
	VPSLLD   $28, Y1, Y8
	VPSLLD   $27, Y1, Y5
	VANDPS   ABSMASK, Y0, Y2
	LUT32(0, Y3)
	VSUBPS   Y3, Y2, Y2
	LUT32(896, Y4)
	LUT32(768, Y3)
	VFMADD213PS Y3, Y2, Y4
	LUT32(640, Y3)
	VFMADD213PS Y3, Y2, Y4
	LUT32(512, Y3)
	VFMADD213PS Y3, Y2, Y4
	LUT32(384, Y3)
	VFMADD213PS Y3, Y2, Y4
	LUT32(256, Y3)
	VFMADD213PS Y3, Y2, Y4
	LUT32(128, Y3)
	VFMADD213PS Y3, Y2, Y4
	VBLENDVPS Y9, Y14, Y4, Y4
	VANDPS    SIGNMASK, Y0, Y3
	VORPS     Y3, Y4, Y4
	VCMPPS    $3, Y0, Y0, Y3
	VBLENDVPS Y3, Y0, Y4, Y4
	VMOVUPS   Y4, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DI
	DECQ      CX
	JNE       tanh_loop

tanh_done:
	VZEROUPPER
	RET

// func axpyAVX2(alpha float32, x, y *float32, n int)
// y[i] += alpha*x[i] for i < n, n a multiple of 8.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y0
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX
	JEQ          axpy_done

axpy_four:
	CMPQ        CX, $4
	JLT         axpy_one
	VMOVUPS     (DI), Y1
	VMOVUPS     32(DI), Y2
	VMOVUPS     64(DI), Y3
	VMOVUPS     96(DI), Y4
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS 32(SI), Y0, Y2
	VFMADD231PS 64(SI), Y0, Y3
	VFMADD231PS 96(SI), Y0, Y4
	VMOVUPS     Y1, (DI)
	VMOVUPS     Y2, 32(DI)
	VMOVUPS     Y3, 64(DI)
	VMOVUPS     Y4, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $4, CX
	JMP         axpy_four

axpy_one:
	TESTQ       CX, CX
	JEQ         axpy_done
	VMOVUPS     (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JMP         axpy_one

axpy_done:
	VZEROUPPER
	RET

// func dotAVX2(a, b *float32, n int) float32
// Σ a[i]*b[i] for i < n, n a multiple of 8, in four vector accumulators.
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   n+16(FP), CX
	SHRQ   $3, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

dot_four:
	CMPQ        CX, $4
	JLT         dot_one
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $4, CX
	JMP         dot_four

dot_one:
	TESTQ       CX, CX
	JEQ         dot_sum
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JMP         dot_one

dot_sum:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, ret+24(FP)
	VZEROUPPER
	RET

// func mulAVX2(dst, a, b *float32, n int)
// dst[i] = a[i] * b[i] for i < n, n a multiple of 8.
TEXT ·mulAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JEQ  mul_done

mul_loop:
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNE     mul_loop

mul_done:
	VZEROUPPER
	RET

// func addAVX2(dst, a, b *float32, n int)
// dst[i] = a[i] + b[i] for i < n, n a multiple of 8.
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JEQ  add_done

add_loop:
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNE     add_loop

add_done:
	VZEROUPPER
	RET

// func packB16(dst, src *float32, kc, ldb int)
// Copies kc rows of 16 values, ldb floats apart in src, to dst contiguously:
// one full 16-column panel of packB.
TEXT ·packB16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ kc+16(FP), CX
	MOVQ ldb+24(FP), DX
	SHLQ $2, DX
	TESTQ CX, CX
	JEQ  pack_done

pack_loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    DX, SI
	ADDQ    $64, DI
	DECQ    CX
	JNE     pack_loop

pack_done:
	VZEROUPPER
	RET
