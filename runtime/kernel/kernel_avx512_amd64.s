//go:build amd64 && !noasm

#include "textflag.h"

// AVX-512 (F, BW, DQ, VL) fast paths: the counterparts of kernel_amd64.s
// with zmm registers and K masks. Each sums and rounds as its AVX2
// counterpart does (the same fused multiply-adds in the same order), so
// the two sets give the same bits; only the vector width differs.

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

// GEMMSTEP(boff, aoff): one k step of the 6×32 tile: b row at boff(DI)
// in Z0, Z1; a's six values at aoff(SI) broadcast in turn.
#define GEMMSTEP(boff, aoff) \
	VMOVUPS      boff(DI), Z0; \
	VMOVUPS      boff+64(DI), Z1; \
	VBROADCASTSS aoff(SI), Z2; \
	VBROADCASTSS aoff+4(SI), Z3; \
	VFMADD231PS  Z0, Z2, Z4; \
	VFMADD231PS  Z1, Z2, Z5; \
	VFMADD231PS  Z0, Z3, Z6; \
	VFMADD231PS  Z1, Z3, Z7; \
	VBROADCASTSS aoff+8(SI), Z2; \
	VBROADCASTSS aoff+12(SI), Z3; \
	VFMADD231PS  Z0, Z2, Z8; \
	VFMADD231PS  Z1, Z2, Z9; \
	VFMADD231PS  Z0, Z3, Z10; \
	VFMADD231PS  Z1, Z3, Z11; \
	VBROADCASTSS aoff+16(SI), Z2; \
	VBROADCASTSS aoff+20(SI), Z3; \
	VFMADD231PS  Z0, Z2, Z12; \
	VFMADD231PS  Z1, Z2, Z13; \
	VFMADD231PS  Z0, Z3, Z14; \
	VFMADD231PS  Z1, Z3, Z15

// func gemm6x32(kc int, a, b, c *float32, ldc int, accumulate bool)
//
// gemm6x16 for a 6×32 tile: c (row stride ldc floats) (+)= the packed a
// panel (kc steps of 6 row values) times the packed b panel (kc steps of 32
// column values). Twelve accumulators Z4..Z15 hold the tile.
TEXT ·gemm6x32(SB), NOSPLIT, $0-41
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	CMPQ CX, $2
	JLT  gz_one

gz_two:
	GEMMSTEP(0, 0)
	GEMMSTEP(128, 24)
	ADDQ $48, SI
	ADDQ $256, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  gz_two

gz_one:
	TESTQ CX, CX
	JEQ   gz_store
	GEMMSTEP(0, 0)

gz_store:
	MOVBLZX accumulate+40(FP), AX
	TESTQ   AX, AX
	JEQ     gz_write
	VADDPS  (DX), Z4, Z4
	VADDPS  64(DX), Z5, Z5
	ADDQ    R8, DX
	VADDPS  (DX), Z6, Z6
	VADDPS  64(DX), Z7, Z7
	ADDQ    R8, DX
	VADDPS  (DX), Z8, Z8
	VADDPS  64(DX), Z9, Z9
	ADDQ    R8, DX
	VADDPS  (DX), Z10, Z10
	VADDPS  64(DX), Z11, Z11
	ADDQ    R8, DX
	VADDPS  (DX), Z12, Z12
	VADDPS  64(DX), Z13, Z13
	ADDQ    R8, DX
	VADDPS  (DX), Z14, Z14
	VADDPS  64(DX), Z15, Z15
	MOVQ    c+24(FP), DX

gz_write:
	VMOVUPS Z4, (DX)
	VMOVUPS Z5, 64(DX)
	ADDQ    R8, DX
	VMOVUPS Z6, (DX)
	VMOVUPS Z7, 64(DX)
	ADDQ    R8, DX
	VMOVUPS Z8, (DX)
	VMOVUPS Z9, 64(DX)
	ADDQ    R8, DX
	VMOVUPS Z10, (DX)
	VMOVUPS Z11, 64(DX)
	ADDQ    R8, DX
	VMOVUPS Z12, (DX)
	VMOVUPS Z13, 64(DX)
	ADDQ    R8, DX
	VMOVUPS Z14, (DX)
	VMOVUPS Z15, 64(DX)
	VZEROUPPER
	RET

// func vecMatRowsZ(y, x, w *float32, k, n, ldw int)
//
// vecMatRows with zmm: four rows of w at a time, each 64-column chunk of y
// loaded once, updated by the four rows in order and stored; then
// 16-column chunks; then the last n%16 columns under the mask K1.
TEXT ·vecMatRowsZ(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ n+32(FP), DX

	// K1 = the first n%16 lanes.
	MOVQ  DX, CX
	ANDQ  $15, CX
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K1
	MOVQ  CX, R12       // n%16, for the masked tail
	MOVQ  k+24(FP), CX

	MOVQ DX, R10
	ANDQ $-64, R10
	SHLQ $2, R10   // bytes covered by 64-column chunks
	MOVQ DX, R11
	ANDQ $-16, R11
	SHLQ $2, R11   // bytes covered by 16-column chunks
	MOVQ ldw+40(FP), DX
	SHLQ $2, DX    // row stride in bytes

vz_rows4:
	CMPQ         CX, $4
	JLT          vz_rows1
	VBROADCASTSS (SI), Z12
	VBROADCASTSS 4(SI), Z13
	VBROADCASTSS 8(SI), Z14
	VBROADCASTSS 12(SI), Z15
	LEAQ         (R8)(DX*1), AX
	LEAQ         (AX)(DX*1), BX
	LEAQ         (BX)(DX*1), R9
	XORQ         R13, R13

vz4_64:
	CMPQ        R13, R10
	JGE         vz4_16
	VMOVUPS     (DI)(R13*1), Z0
	VMOVUPS     64(DI)(R13*1), Z1
	VMOVUPS     128(DI)(R13*1), Z2
	VMOVUPS     192(DI)(R13*1), Z3
	VFMADD231PS (R8)(R13*1), Z12, Z0
	VFMADD231PS 64(R8)(R13*1), Z12, Z1
	VFMADD231PS 128(R8)(R13*1), Z12, Z2
	VFMADD231PS 192(R8)(R13*1), Z12, Z3
	VFMADD231PS (AX)(R13*1), Z13, Z0
	VFMADD231PS 64(AX)(R13*1), Z13, Z1
	VFMADD231PS 128(AX)(R13*1), Z13, Z2
	VFMADD231PS 192(AX)(R13*1), Z13, Z3
	VFMADD231PS (BX)(R13*1), Z14, Z0
	VFMADD231PS 64(BX)(R13*1), Z14, Z1
	VFMADD231PS 128(BX)(R13*1), Z14, Z2
	VFMADD231PS 192(BX)(R13*1), Z14, Z3
	VFMADD231PS (R9)(R13*1), Z15, Z0
	VFMADD231PS 64(R9)(R13*1), Z15, Z1
	VFMADD231PS 128(R9)(R13*1), Z15, Z2
	VFMADD231PS 192(R9)(R13*1), Z15, Z3
	VMOVUPS     Z0, (DI)(R13*1)
	VMOVUPS     Z1, 64(DI)(R13*1)
	VMOVUPS     Z2, 128(DI)(R13*1)
	VMOVUPS     Z3, 192(DI)(R13*1)
	ADDQ        $256, R13
	JMP         vz4_64

vz4_16:
	CMPQ        R13, R11
	JGE         vz4_tail
	VMOVUPS     (DI)(R13*1), Z0
	VFMADD231PS (R8)(R13*1), Z12, Z0
	VFMADD231PS (AX)(R13*1), Z13, Z0
	VFMADD231PS (BX)(R13*1), Z14, Z0
	VFMADD231PS (R9)(R13*1), Z15, Z0
	VMOVUPS     Z0, (DI)(R13*1)
	ADDQ        $64, R13
	JMP         vz4_16

vz4_tail:
	TESTQ       R12, R12
	JEQ         vz4_next
	VMOVUPS.Z   (DI)(R13*1), K1, Z0
	VFMADD231PS (R8)(R13*1), Z12, K1, Z0
	VFMADD231PS (AX)(R13*1), Z13, K1, Z0
	VFMADD231PS (BX)(R13*1), Z14, K1, Z0
	VFMADD231PS (R9)(R13*1), Z15, K1, Z0
	VMOVUPS     Z0, K1, (DI)(R13*1)

vz4_next:
	ADDQ $16, SI
	LEAQ (R9)(DX*1), R8
	SUBQ $4, CX
	JMP  vz_rows4

vz_rows1:
	TESTQ        CX, CX
	JEQ          vz_done
	VBROADCASTSS (SI), Z12
	XORQ         R13, R13

vz1_64:
	CMPQ        R13, R10
	JGE         vz1_16
	VMOVUPS     (DI)(R13*1), Z0
	VMOVUPS     64(DI)(R13*1), Z1
	VMOVUPS     128(DI)(R13*1), Z2
	VMOVUPS     192(DI)(R13*1), Z3
	VFMADD231PS (R8)(R13*1), Z12, Z0
	VFMADD231PS 64(R8)(R13*1), Z12, Z1
	VFMADD231PS 128(R8)(R13*1), Z12, Z2
	VFMADD231PS 192(R8)(R13*1), Z12, Z3
	VMOVUPS     Z0, (DI)(R13*1)
	VMOVUPS     Z1, 64(DI)(R13*1)
	VMOVUPS     Z2, 128(DI)(R13*1)
	VMOVUPS     Z3, 192(DI)(R13*1)
	ADDQ        $256, R13
	JMP         vz1_64

vz1_16:
	CMPQ        R13, R11
	JGE         vz1_tail
	VMOVUPS     (DI)(R13*1), Z0
	VFMADD231PS (R8)(R13*1), Z12, Z0
	VMOVUPS     Z0, (DI)(R13*1)
	ADDQ        $64, R13
	JMP         vz1_16

vz1_tail:
	TESTQ       R12, R12
	JEQ         vz1_next
	VMOVUPS.Z   (DI)(R13*1), K1, Z0
	VFMADD231PS (R8)(R13*1), Z12, K1, Z0
	VMOVUPS     Z0, K1, (DI)(R13*1)

vz1_next:
	ADDQ $4, SI
	ADDQ DX, R8
	DECQ CX
	JMP  vz_rows1

vz_done:
	VZEROUPPER
	RET


// func vecMatPanelsZ(y, x, w *float32, k, n, ldw int)
//
// vecMatPanels with zmm for k a multiple of 8 and n a multiple of 128:
// eight rows at a time, each 128-column block of y held in Z0..Z7 while the
// eight rows' values (x broadcast in Z8..Z15) are added in order.
TEXT ·vecMatPanelsZ(SB), NOSPLIT, $0-48
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), R10
	MOVQ k+24(FP), CX
	MOVQ n+32(FP), R11
	SHLQ $2, R11            // row bytes to cover
	MOVQ ldw+40(FP), AX
	SHLQ $2, AX             // row stride in bytes
	LEAQ (AX)(AX*2), BX     // three rows
	SHRQ $3, CX
	JEQ  vpz_done

vpz_panel:
	VBROADCASTSS (SI), Z8
	VBROADCASTSS 4(SI), Z9
	VBROADCASTSS 8(SI), Z10
	VBROADCASTSS 12(SI), Z11
	VBROADCASTSS 16(SI), Z12
	VBROADCASTSS 20(SI), Z13
	VBROADCASTSS 24(SI), Z14
	VBROADCASTSS 28(SI), Z15
	MOVQ         R10, R8
	LEAQ         (R10)(AX*4), R9
	MOVQ         y+0(FP), DI
	MOVQ         R11, DX

vpz_block:
	VMOVUPS     0(DI), Z0
	VMOVUPS     64(DI), Z1
	VMOVUPS     128(DI), Z2
	VMOVUPS     192(DI), Z3
	VMOVUPS     256(DI), Z4
	VMOVUPS     320(DI), Z5
	VMOVUPS     384(DI), Z6
	VMOVUPS     448(DI), Z7
	VFMADD231PS (R8), Z8, Z0
	VFMADD231PS 64(R8), Z8, Z1
	VFMADD231PS 128(R8), Z8, Z2
	VFMADD231PS 192(R8), Z8, Z3
	VFMADD231PS 256(R8), Z8, Z4
	VFMADD231PS 320(R8), Z8, Z5
	VFMADD231PS 384(R8), Z8, Z6
	VFMADD231PS 448(R8), Z8, Z7
	VFMADD231PS (R8)(AX*1), Z9, Z0
	VFMADD231PS 64(R8)(AX*1), Z9, Z1
	VFMADD231PS 128(R8)(AX*1), Z9, Z2
	VFMADD231PS 192(R8)(AX*1), Z9, Z3
	VFMADD231PS 256(R8)(AX*1), Z9, Z4
	VFMADD231PS 320(R8)(AX*1), Z9, Z5
	VFMADD231PS 384(R8)(AX*1), Z9, Z6
	VFMADD231PS 448(R8)(AX*1), Z9, Z7
	VFMADD231PS (R8)(AX*2), Z10, Z0
	VFMADD231PS 64(R8)(AX*2), Z10, Z1
	VFMADD231PS 128(R8)(AX*2), Z10, Z2
	VFMADD231PS 192(R8)(AX*2), Z10, Z3
	VFMADD231PS 256(R8)(AX*2), Z10, Z4
	VFMADD231PS 320(R8)(AX*2), Z10, Z5
	VFMADD231PS 384(R8)(AX*2), Z10, Z6
	VFMADD231PS 448(R8)(AX*2), Z10, Z7
	VFMADD231PS (R8)(BX*1), Z11, Z0
	VFMADD231PS 64(R8)(BX*1), Z11, Z1
	VFMADD231PS 128(R8)(BX*1), Z11, Z2
	VFMADD231PS 192(R8)(BX*1), Z11, Z3
	VFMADD231PS 256(R8)(BX*1), Z11, Z4
	VFMADD231PS 320(R8)(BX*1), Z11, Z5
	VFMADD231PS 384(R8)(BX*1), Z11, Z6
	VFMADD231PS 448(R8)(BX*1), Z11, Z7
	VFMADD231PS (R9), Z12, Z0
	VFMADD231PS 64(R9), Z12, Z1
	VFMADD231PS 128(R9), Z12, Z2
	VFMADD231PS 192(R9), Z12, Z3
	VFMADD231PS 256(R9), Z12, Z4
	VFMADD231PS 320(R9), Z12, Z5
	VFMADD231PS 384(R9), Z12, Z6
	VFMADD231PS 448(R9), Z12, Z7
	VFMADD231PS (R9)(AX*1), Z13, Z0
	VFMADD231PS 64(R9)(AX*1), Z13, Z1
	VFMADD231PS 128(R9)(AX*1), Z13, Z2
	VFMADD231PS 192(R9)(AX*1), Z13, Z3
	VFMADD231PS 256(R9)(AX*1), Z13, Z4
	VFMADD231PS 320(R9)(AX*1), Z13, Z5
	VFMADD231PS 384(R9)(AX*1), Z13, Z6
	VFMADD231PS 448(R9)(AX*1), Z13, Z7
	VFMADD231PS (R9)(AX*2), Z14, Z0
	VFMADD231PS 64(R9)(AX*2), Z14, Z1
	VFMADD231PS 128(R9)(AX*2), Z14, Z2
	VFMADD231PS 192(R9)(AX*2), Z14, Z3
	VFMADD231PS 256(R9)(AX*2), Z14, Z4
	VFMADD231PS 320(R9)(AX*2), Z14, Z5
	VFMADD231PS 384(R9)(AX*2), Z14, Z6
	VFMADD231PS 448(R9)(AX*2), Z14, Z7
	VFMADD231PS (R9)(BX*1), Z15, Z0
	VFMADD231PS 64(R9)(BX*1), Z15, Z1
	VFMADD231PS 128(R9)(BX*1), Z15, Z2
	VFMADD231PS 192(R9)(BX*1), Z15, Z3
	VFMADD231PS 256(R9)(BX*1), Z15, Z4
	VFMADD231PS 320(R9)(BX*1), Z15, Z5
	VFMADD231PS 384(R9)(BX*1), Z15, Z6
	VFMADD231PS 448(R9)(BX*1), Z15, Z7
	VMOVUPS     Z0, 0(DI)
	VMOVUPS     Z1, 64(DI)
	VMOVUPS     Z2, 128(DI)
	VMOVUPS     Z3, 192(DI)
	VMOVUPS     Z4, 256(DI)
	VMOVUPS     Z5, 320(DI)
	VMOVUPS     Z6, 384(DI)
	VMOVUPS     Z7, 448(DI)
	ADDQ $512, DI
	ADDQ $512, R8
	ADDQ $512, R9
	SUBQ $512, DX
	JNE  vpz_block

	ADDQ $32, SI
	LEAQ (R10)(AX*8), R10
	DECQ CX
	JNE  vpz_panel

vpz_done:
	VZEROUPPER
	RET

// EXPZ sets Z3 = exp(Z0) with Z1, Z2, Z4, Z5, Z6 and K1..K5 as
// temporaries; Z0 is kept. The steps of the AVX2 EXP macro, with masks in
// K registers: K1 = x ≥ hi (+Inf), K2 = x ≤ lo (0), K4 = NaN (x itself).
#define EXPZ \
	VMULPS.BCST       LOG2E, Z0, Z1; \
	VADDPS.BCST       EXPMAGIC, Z1, Z1; \
	VSUBPS.BCST       EXPMAGIC, Z1, Z1; \
	VCMPPS.BCST       $0x1d, EXPHI, Z0, K1; \
	VCMPPS.BCST       $0x12, EXPLO, Z0, K2; \
	VCMPPS            $3, Z0, Z0, K4; \
	KORW              K1, K2, K3; \
	KORW              K4, K3, K3; \
	KNOTW             K3, K5; \
	VMOVAPS.Z         Z1, K5, Z1; \
	VMOVAPS           Z0, Z2; \
	VFMADD231PS.BCST  EXPC1, Z1, Z2; \
	VFMADD231PS.BCST  EXPC2, Z1, Z2; \
	VBROADCASTSS      EXPP5, Z3; \
	VFMADD213PS.BCST  EXPP4, Z2, Z3; \
	VFMADD213PS.BCST  EXPP3, Z2, Z3; \
	VFMADD213PS.BCST  EXPP2, Z2, Z3; \
	VFMADD213PS.BCST  EXPP1, Z2, Z3; \
	VFMADD213PS.BCST  EXPP0, Z2, Z3; \
	VBROADCASTSS      EXPQ2, Z4; \
	VFMADD213PS.BCST  EXPQ1, Z2, Z4; \
	VFMADD213PS.BCST  ONE, Z2, Z4; \
	VDIVPS            Z4, Z3, Z3; \
	VBROADCASTSS      EXPM125, Z4; \
	VSUBPS            Z1, Z4, Z5; \
	VMAXPS            Z1, Z4, Z1; \
	VPXORD            Z6, Z6, Z6; \
	VMAXPS            Z6, Z5, Z5; \
	VCVTPS2DQ         Z5, Z5; \
	VPBROADCASTD      I1, Z6; \
	VPSLLVD           Z5, Z6, Z5; \
	VCVTDQ2PS         Z5, Z5; \
	VCVTPS2DQ         Z1, Z1; \
	VPSLLD            $23, Z1, Z1; \
	VPADDD            Z1, Z3, Z3; \
	VDIVPS            Z5, Z3, Z3; \
	VBROADCASTSS      INF, K1, Z3; \
	VPXORD            Z3, Z3, K2, Z3; \
	VMOVAPS           Z0, K4, Z3

// func expZ(dst, src *float32, n int)
// dst[i] = exp(src[i]) for i < n, n a multiple of 16.
TEXT ·expZ(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JEQ  expz_done

expz_loop:
	VMOVUPS (SI), Z0
	EXPZ
	VMOVUPS Z3, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNE     expz_loop

expz_done:
	VZEROUPPER
	RET

// func sigmoidZ(dst, src *float32, n int)
// dst[i] = 1 / (1 + exp(-src[i])) for i < n, n a multiple of 16.
TEXT ·sigmoidZ(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JEQ  sigz_done

sigz_loop:
	VMOVUPS      (SI), Z0
	VPXORD.BCST  SIGNMASK, Z0, Z0
	EXPZ
	VBROADCASTSS ONE, Z5
	VADDPS       Z5, Z3, Z3
	VDIVPS       Z3, Z5, Z3
	VMOVUPS      Z3, (DI)
	ADDQ         $64, SI
	ADDQ         $64, DI
	DECQ         CX
	JNE          sigz_loop

sigz_done:
	VZEROUPPER
	RET

// LUTZ(lo, hi, dst) sets dst to the 32-entry table row held in lo
// (entries 0..15) and hi (16..31) at the indices in Z1.
#define LUTZ(lo, hi, dst) \
	VMOVAPS   lo, dst; \
	VPERMT2PS hi, Z1, dst

// func tanhZ(dst, src *float32, n int)
// dst[i] = tanh(src[i]) for i < n, n a multiple of 16: tanhAVX2's steps,
// with the whole coefficient table in Z16..Z31 and VPERMT2PS picking from
// a 32-entry row in one instruction.
TEXT ·tanhZ(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JEQ  tanhz_done
	LEAQ ·tanhLUT(SB), AX
	VMOVUPS 0(AX), Z16
	VMOVUPS 64(AX), Z17
	VMOVUPS 128(AX), Z18
	VMOVUPS 192(AX), Z19
	VMOVUPS 256(AX), Z20
	VMOVUPS 320(AX), Z21
	VMOVUPS 384(AX), Z22
	VMOVUPS 448(AX), Z23
	VMOVUPS 512(AX), Z24
	VMOVUPS 576(AX), Z25
	VMOVUPS 640(AX), Z26
	VMOVUPS 704(AX), Z27
	VMOVUPS 768(AX), Z28
	VMOVUPS 832(AX), Z29
	VMOVUPS 896(AX), Z30
	VMOVUPS 960(AX), Z31
	VPBROADCASTD ·tanhConst+0(SB), Z10
	VPBROADCASTD ·tanhConst+4(SB), Z11
	VPBROADCASTD ·tanhConst+8(SB), Z12
	VPBROADCASTD ·tanhConst+12(SB), Z13
	VPBROADCASTD ·tanhConst+16(SB), Z14
	VPXORD       Z15, Z15, Z15

tanhz_loop:
	VMOVUPS     (SI), Z0
	VPANDD      Z10, Z0, Z1
	VPCMPGTD    Z13, Z1, K1
	VPSUBD      Z11, Z1, Z1
	VPMAXSD     Z15, Z1, Z1
	VPMINSD     Z12, Z1, Z1
	VPSRLD      $21, Z1, Z1
	VPANDD.BCST ABSMASK, Z0, Z2
	LUTZ(Z16, Z17, Z3)
	VSUBPS      Z3, Z2, Z2
	LUTZ(Z30, Z31, Z4)
	LUTZ(Z28, Z29, Z3)
	VFMADD213PS Z3, Z2, Z4
	LUTZ(Z26, Z27, Z3)
	VFMADD213PS Z3, Z2, Z4
	LUTZ(Z24, Z25, Z3)
	VFMADD213PS Z3, Z2, Z4
	LUTZ(Z22, Z23, Z3)
	VFMADD213PS Z3, Z2, Z4
	LUTZ(Z20, Z21, Z3)
	VFMADD213PS Z3, Z2, Z4
	LUTZ(Z18, Z19, Z3)
	VFMADD213PS Z3, Z2, Z4
	VMOVAPS     Z14, K1, Z4
	VPANDD.BCST SIGNMASK, Z0, Z3
	VPORD       Z3, Z4, Z4
	VCMPPS      $3, Z0, Z0, K2
	VMOVAPS     Z0, K2, Z4
	VMOVUPS     Z4, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNE         tanhz_loop

tanhz_done:
	VZEROUPPER
	RET

// func packB32(dst, src *float32, kc, ldb int)
// Copies kc rows of 32 values, ldb floats apart in src, to dst
// contiguously: one full 32-column panel of packB.
TEXT ·packB32(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  kc+16(FP), CX
	MOVQ  ldb+24(FP), DX
	SHLQ  $2, DX
	TESTQ CX, CX
	JEQ   packz_done

packz_loop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    DX, SI
	ADDQ    $128, DI
	DECQ    CX
	JNE     packz_loop

packz_done:
	VZEROUPPER
	RET

// TANHZ sets Z4 = tanh(Z0) as tanhZ's loop body does, with Z1..Z3, K1 and
// K2 as temporaries and tanhZ's constants in Z10..Z31.
#define TANHZ \
	VPANDD      Z10, Z0, Z1; \
	VPCMPGTD    Z13, Z1, K1; \
	VPSUBD      Z11, Z1, Z1; \
	VPMAXSD     Z15, Z1, Z1; \
	VPMINSD     Z12, Z1, Z1; \
	VPSRLD      $21, Z1, Z1; \
	VPANDD.BCST ABSMASK, Z0, Z2; \
	VMOVAPS     Z16, Z3; \
	VPERMT2PS   Z17, Z1, Z3; \
	VSUBPS      Z3, Z2, Z2; \
	VMOVAPS     Z30, Z4; \
	VPERMT2PS   Z31, Z1, Z4; \
	VMOVAPS     Z28, Z3; \
	VPERMT2PS   Z29, Z1, Z3; \
	VFMADD213PS Z3, Z2, Z4; \
	VMOVAPS     Z26, Z3; \
	VPERMT2PS   Z27, Z1, Z3; \
	VFMADD213PS Z3, Z2, Z4; \
	VMOVAPS     Z24, Z3; \
	VPERMT2PS   Z25, Z1, Z3; \
	VFMADD213PS Z3, Z2, Z4; \
	VMOVAPS     Z22, Z3; \
	VPERMT2PS   Z23, Z1, Z3; \
	VFMADD213PS Z3, Z2, Z4; \
	VMOVAPS     Z20, Z3; \
	VPERMT2PS   Z21, Z1, Z3; \
	VFMADD213PS Z3, Z2, Z4; \
	VMOVAPS     Z18, Z3; \
	VPERMT2PS   Z19, Z1, Z3; \
	VFMADD213PS Z3, Z2, Z4; \
	VMOVAPS     Z14, K1, Z4; \
	VPANDD.BCST SIGNMASK, Z0, Z3; \
	VPORD       Z3, Z4, Z4; \
	VCMPPS      $3, Z0, Z0, K2; \
	VMOVAPS     Z0, K2, Z4

// SIGZ(dst) sets dst = sigmoid(Z0) = 1 / (1 + exp(-Z0)) as sigmoidZ does;
// Z0..Z6 and K1..K5 are clobbered.
#define SIGZ(dst) \
	VPXORD.BCST  SIGNMASK, Z0, Z0; \
	EXPZ; \
	VBROADCASTSS ONE, Z5; \
	VADDPS       Z5, Z3, Z3; \
	VDIVPS       Z3, Z5, dst


// func lstmGatesZ(u int, xp, rec, bias, cOld, cNew, hNew *float32)
//
// The LSTM step after its matrix products, for u a multiple of 16, in one
// pass: per 16 units, z = (xp + rec) + bias for the gates i, f, o, g
// (u values apart), i, f, o = sigmoid, g = tanh, cNew = f*cOld + i*g,
// hNew = o*tanh(cNew), every operation rounded as the separate kernels
// round it.
TEXT ·lstmGatesZ(SB), NOSPLIT, $0-56
	MOVQ u+0(FP), CX
	MOVQ xp+8(FP), DI
	MOVQ rec+16(FP), SI
	MOVQ bias+24(FP), DX
	MOVQ cOld+32(FP), R8
	MOVQ cNew+40(FP), R9
	MOVQ hNew+48(FP), R10
	MOVQ CX, BX
	SHLQ $2, BX             // gate stride in bytes
	LEAQ (BX)(BX*2), R11    // three gates
	LEAQ (BX)(BX*1), R12    // two gates
	SHRQ $4, CX
	JEQ  lstmz_done
	LEAQ ·tanhLUT(SB), AX
	VMOVUPS 0(AX), Z16
	VMOVUPS 64(AX), Z17
	VMOVUPS 128(AX), Z18
	VMOVUPS 192(AX), Z19
	VMOVUPS 256(AX), Z20
	VMOVUPS 320(AX), Z21
	VMOVUPS 384(AX), Z22
	VMOVUPS 448(AX), Z23
	VMOVUPS 512(AX), Z24
	VMOVUPS 576(AX), Z25
	VMOVUPS 640(AX), Z26
	VMOVUPS 704(AX), Z27
	VMOVUPS 768(AX), Z28
	VMOVUPS 832(AX), Z29
	VMOVUPS 896(AX), Z30
	VMOVUPS 960(AX), Z31
	VPBROADCASTD ·tanhConst+0(SB), Z10
	VPBROADCASTD ·tanhConst+4(SB), Z11
	VPBROADCASTD ·tanhConst+8(SB), Z12
	VPBROADCASTD ·tanhConst+12(SB), Z13
	VPBROADCASTD ·tanhConst+16(SB), Z14
	VPXORD       Z15, Z15, Z15

lstmz_loop:
	VMOVUPS (DI), Z0
	VADDPS  (SI), Z0, Z0
	VADDPS  (DX), Z0, Z0
	SIGZ(Z7)
	VMOVUPS (DI)(BX*1), Z0
	VADDPS  (SI)(BX*1), Z0, Z0
	VADDPS  (DX)(BX*1), Z0, Z0
	SIGZ(Z8)
	VMOVUPS (DI)(R12*1), Z0
	VADDPS  (SI)(R12*1), Z0, Z0
	VADDPS  (DX)(R12*1), Z0, Z0
	SIGZ(Z9)
	VMOVUPS (DI)(R11*1), Z0
	VADDPS  (SI)(R11*1), Z0, Z0
	VADDPS  (DX)(R11*1), Z0, Z0
	TANHZ
	VMULPS  Z4, Z7, Z7
	VMULPS  (R8), Z8, Z8
	VADDPS  Z7, Z8, Z0
	VMOVUPS Z0, (R9)
	TANHZ
	VMULPS  Z4, Z9, Z4
	VMOVUPS Z4, (R10)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, R8
	ADDQ    $64, R9
	ADDQ    $64, R10
	DECQ    CX
	JNE     lstmz_loop

lstmz_done:
	VZEROUPPER
	RET

// func gruGatesZ(u int, xp, rec, recBias, hOld, hNew *float32)
//
// The reset_after GRU step after its matrix product, for u a multiple of
// 16, in one pass: per 16 units, with the gates z, r, h u values apart,
// z = sigmoid(xp_z + (rec_z + rb_z)), r = sigmoid(xp_r + (rec_r + rb_r)),
// hh = tanh(xp_h + r*(rec_h + rb_h)), hNew = z*hOld + (1-z)*hh, every
// operation rounded as the separate kernels round it.
TEXT ·gruGatesZ(SB), NOSPLIT, $0-48
	MOVQ u+0(FP), CX
	MOVQ xp+8(FP), DI
	MOVQ rec+16(FP), SI
	MOVQ recBias+24(FP), DX
	MOVQ hOld+32(FP), R8
	MOVQ hNew+40(FP), R9
	MOVQ CX, BX
	SHLQ $2, BX             // gate stride in bytes
	LEAQ (BX)(BX*1), R12    // two gates
	SHRQ $4, CX
	JEQ  gruz_done
	LEAQ ·tanhLUT(SB), AX
	VMOVUPS 0(AX), Z16
	VMOVUPS 64(AX), Z17
	VMOVUPS 128(AX), Z18
	VMOVUPS 192(AX), Z19
	VMOVUPS 256(AX), Z20
	VMOVUPS 320(AX), Z21
	VMOVUPS 384(AX), Z22
	VMOVUPS 448(AX), Z23
	VMOVUPS 512(AX), Z24
	VMOVUPS 576(AX), Z25
	VMOVUPS 640(AX), Z26
	VMOVUPS 704(AX), Z27
	VMOVUPS 768(AX), Z28
	VMOVUPS 832(AX), Z29
	VMOVUPS 896(AX), Z30
	VMOVUPS 960(AX), Z31
	VPBROADCASTD ·tanhConst+0(SB), Z10
	VPBROADCASTD ·tanhConst+4(SB), Z11
	VPBROADCASTD ·tanhConst+8(SB), Z12
	VPBROADCASTD ·tanhConst+12(SB), Z13
	VPBROADCASTD ·tanhConst+16(SB), Z14
	VPXORD       Z15, Z15, Z15

gruz_loop:
	VMOVUPS (SI), Z0
	VADDPS  (DX), Z0, Z0
	VADDPS  (DI), Z0, Z0
	SIGZ(Z7)
	VMOVUPS (SI)(BX*1), Z0
	VADDPS  (DX)(BX*1), Z0, Z0
	VADDPS  (DI)(BX*1), Z0, Z0
	SIGZ(Z8)
	VMOVUPS (SI)(R12*1), Z0
	VADDPS  (DX)(R12*1), Z0, Z0
	VMULPS  Z8, Z0, Z0
	VADDPS  (DI)(R12*1), Z0, Z0
	TANHZ
	VBROADCASTSS ONE, Z5
	VSUBPS  Z7, Z5, Z5
	VMULPS  Z4, Z5, Z5
	VMULPS  (R8), Z7, Z7
	VADDPS  Z5, Z7, Z7
	VMOVUPS Z7, (R9)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, R8
	ADDQ    $64, R9
	DECQ    CX
	JNE     gruz_loop

gruz_done:
	VZEROUPPER
	RET
