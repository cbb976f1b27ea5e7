package text

import (
	"encoding/binary"
	"math/bits"

	farm "github.com/dgryski/go-farm"
)

// TFHashBucketFast is tf.strings.to_hash_bucket_fast(s, buckets), which
// Keras' Hashing layer (without a salt) and the lookup layers' extra OOV
// indices call: FarmHash's Fingerprint64 of the UTF-8 bytes modulo
// buckets. buckets must be positive.
func TFHashBucketFast(s string, buckets int) int {
	return int(farm.Fingerprint64([]byte(s)) % uint64(buckets))
}

// TFHashBucketStrong is tf.strings.to_hash_bucket_strong(s, buckets,
// key), which Keras' Hashing layer calls when it has a salt (an integer
// salt s is the key [s, s]): SipHash-2-4 keyed with key[0], key[1] (as
// TensorFlow's StrongKeyedHash, highwayhash's SipHash) modulo buckets.
func TFHashBucketStrong(s string, buckets int, key [2]uint64) int {
	return int(sipHash24(key[0], key[1], []byte(s)) % uint64(buckets))
}

// sipHash24 is SipHash-2-4 (Aumasson and Bernstein) of p under the
// 128-bit key k0, k1.
func sipHash24(k0, k1 uint64, p []byte) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	n := len(p)
	for len(p) >= 8 {
		m := binary.LittleEndian.Uint64(p)
		v3 ^= m
		round()
		round()
		v0 ^= m
		p = p[8:]
	}
	var last [8]byte
	copy(last[:], p)
	last[7] = byte(n)
	m := binary.LittleEndian.Uint64(last[:])
	v3 ^= m
	round()
	round()
	v0 ^= m
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
