;; The latent's element-wise loops, two float64 lanes at a time (V8 runs the same loops in JavaScript one value at a
;; time). Arguments: byte offsets of the arrays in this module's memory, then $bytes, the length of a float64 array
;; in bytes, a whole number of 16-byte pairs (latent-kernels.ts pads an odd count with a zero). A float32 array holds
;; the same count in half the bytes. Each loop does the same operations in the same order as the formula above it,
;; and WebAssembly never fuses a multiply with an add, so the values are those of the formula in JavaScript.
(module
  (memory (export "memory") 1)

  ;; x = x + dt * ((x - d) / sigma)
  (func (export "euler_step") (param $x i32) (param $d i32) (param $bytes i32) (param $sigma f64) (param $dt f64)
    (local $i i32) (local $s v128) (local $t v128) (local $v v128)
    (local.set $s (f64x2.splat (local.get $sigma)))
    (local.set $t (f64x2.splat (local.get $dt)))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
        (v128.store (i32.add (local.get $x) (local.get $i))
          (f64x2.add (local.get $v)
            (f64x2.mul (local.get $t)
              (f64x2.div (f64x2.sub (local.get $v) (v128.load (i32.add (local.get $d) (local.get $i)))) (local.get $s)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair))))

  ;; 1 when every a is finite: a - a is 0 for a finite value and NaN otherwise, and a NaN stays NaN through a sum
  (func (export "all_finite") (param $a i32) (param $bytes i32) (result i32)
    (local $i i32) (local $sum v128) (local $v v128)
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (local.set $v (v128.load (i32.add (local.get $a) (local.get $i))))
        (local.set $sum (f64x2.add (local.get $sum) (f64x2.sub (local.get $v) (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair)))
    (f64.eq (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))) (f64.const 0)))

  ;; s = float32(c_in * x), s a float32 array
  (func (export "scale_input") (param $s i32) (param $x i32) (param $bytes i32) (param $cIn f64)
    (local $i i32) (local $c v128)
    (local.set $c (f64x2.splat (local.get $cIn)))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (v128.store64_lane 0
          (i32.add (local.get $s) (i32.shr_u (local.get $i) (i32.const 1)))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $c) (v128.load (i32.add (local.get $x) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair))))

  ;; guided: d = c_skip * x + c_out * (u + w * (c - u)); otherwise d = c_skip * x + c_out * u (u and c float32 arrays)
  (func (export "combine") (param $d i32) (param $x i32) (param $u i32) (param $c i32) (param $bytes i32)
    (param $cSkip f64) (param $cOut f64) (param $w f64) (param $guided i32)
    (local $i i32) (local $k v128) (local $o v128) (local $g v128) (local $uv v128)
    (local.set $k (f64x2.splat (local.get $cSkip)))
    (local.set $o (f64x2.splat (local.get $cOut)))
    (local.set $g (f64x2.splat (local.get $w)))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (local.set $uv
          (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $u) (i32.shr_u (local.get $i) (i32.const 1))))))
        (if (local.get $guided)
          (then
            (local.set $uv
              (f64x2.add (local.get $uv)
                (f64x2.mul (local.get $g)
                  (f64x2.sub
                    (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $c) (i32.shr_u (local.get $i) (i32.const 1)))))
                    (local.get $uv)))))))
        (v128.store (i32.add (local.get $d) (local.get $i))
          (f64x2.add
            (f64x2.mul (local.get $k) (v128.load (i32.add (local.get $x) (local.get $i))))
            (f64x2.mul (local.get $o) (local.get $uv))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair))))

  ;; An fp16 UNet's side, four values at a time ($bytes as above; up to two values past it are read and written).

  ;; s = the half bit patterns of float32(c_in * x)
  (func (export "scale_input_half") (param $s i32) (param $x i32) (param $bytes i32) (param $cIn f64)
    (local $i i32) (local $c v128) (local $f v128)
    (local.set $c (f64x2.splat (local.get $cIn)))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        ;; two float32 pairs side by side: lanes 0-1 of each demotion
        (local.set $f
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.mul (local.get $c) (v128.load (i32.add (local.get $x) (local.get $i)))))
            (f32x4.demote_f64x2_zero (f64x2.mul (local.get $c) (v128.load offset=16 (i32.add (local.get $x) (local.get $i)))))))
        (local.set $f (call $half_of (local.get $f)))
        (v128.store64_lane 0
          (i32.add (local.get $s) (i32.shr_u (local.get $i) (i32.const 2)))
          (i16x8.narrow_i32x4_u (local.get $f) (local.get $f)))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $four))))

  ;; combine's formula with u and c half bit patterns (their float32 values are exact)
  (func (export "combine_half") (param $d i32) (param $x i32) (param $u i32) (param $c i32) (param $bytes i32)
    (param $cSkip f64) (param $cOut f64) (param $w f64) (param $guided i32)
    (local $i i32) (local $k v128) (local $o v128) (local $g v128) (local $uf v128) (local $cf v128) (local $lo v128) (local $hi v128)
    (local.set $k (f64x2.splat (local.get $cSkip)))
    (local.set $o (f64x2.splat (local.get $cOut)))
    (local.set $g (f64x2.splat (local.get $w)))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (local.set $uf
          (call $float_of (i32x4.extend_low_i16x8_u (v128.load64_zero (i32.add (local.get $u) (i32.shr_u (local.get $i) (i32.const 2)))))))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $uf)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $uf) (local.get $uf))))
        (if (local.get $guided)
          (then
            (local.set $cf
              (call $float_of (i32x4.extend_low_i16x8_u (v128.load64_zero (i32.add (local.get $c) (i32.shr_u (local.get $i) (i32.const 2)))))))
            (local.set $lo
              (f64x2.add (local.get $lo) (f64x2.mul (local.get $g) (f64x2.sub (f64x2.promote_low_f32x4 (local.get $cf)) (local.get $lo)))))
            (local.set $hi
              (f64x2.add (local.get $hi)
                (f64x2.mul (local.get $g)
                  (f64x2.sub
                    (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $cf) (local.get $cf)))
                    (local.get $hi)))))))
        (v128.store (i32.add (local.get $d) (local.get $i))
          (f64x2.add
            (f64x2.mul (local.get $k) (v128.load (i32.add (local.get $x) (local.get $i))))
            (f64x2.mul (local.get $o) (local.get $lo))))
        (v128.store offset=16 (i32.add (local.get $d) (local.get $i))
          (f64x2.add
            (f64x2.mul (local.get $k) (v128.load offset=16 (i32.add (local.get $x) (local.get $i))))
            (f64x2.mul (local.get $o) (local.get $hi))))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $four))))

  ;; Heun's first half: slope = (x - den) / sigma, xe = x + dt * slope
  (func (export "heun_predict") (param $slope i32) (param $xe i32) (param $x i32) (param $den i32) (param $bytes i32)
    (param $sigma f64) (param $dt f64)
    (local $i i32) (local $s v128) (local $t v128) (local $v v128) (local $sl v128)
    (local.set $s (f64x2.splat (local.get $sigma)))
    (local.set $t (f64x2.splat (local.get $dt)))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
        (local.set $sl
          (f64x2.div (f64x2.sub (local.get $v) (v128.load (i32.add (local.get $den) (local.get $i)))) (local.get $s)))
        (v128.store (i32.add (local.get $slope) (local.get $i)) (local.get $sl))
        (v128.store (i32.add (local.get $xe) (local.get $i)) (f64x2.add (local.get $v) (f64x2.mul (local.get $t) (local.get $sl))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair))))

  ;; Heun's second half: x = x + half_dt * (slope + (xe - den) / sigma_next)
  (func (export "heun_correct") (param $x i32) (param $xe i32) (param $den i32) (param $slope i32) (param $bytes i32)
    (param $sigmaNext f64) (param $halfDt f64)
    (local $i i32) (local $s v128) (local $h v128)
    (local.set $s (f64x2.splat (local.get $sigmaNext)))
    (local.set $h (f64x2.splat (local.get $halfDt)))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (v128.store (i32.add (local.get $x) (local.get $i))
          (f64x2.add (v128.load (i32.add (local.get $x) (local.get $i)))
            (f64x2.mul (local.get $h)
              (f64x2.add (v128.load (i32.add (local.get $slope) (local.get $i)))
                (f64x2.div
                  (f64x2.sub (v128.load (i32.add (local.get $xe) (local.get $i))) (v128.load (i32.add (local.get $den) (local.get $i))))
                  (local.get $s))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair))))

  ;; out = a + scale * b
  (func (export "axpy") (param $out i32) (param $a i32) (param $b i32) (param $bytes i32) (param $scale f64)
    (local $i i32) (local $s v128)
    (local.set $s (f64x2.splat (local.get $scale)))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f64x2.add (v128.load (i32.add (local.get $a) (local.get $i)))
            (f64x2.mul (local.get $s) (v128.load (i32.add (local.get $b) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair))))

  ;; DPM-Solver++(2M): x = ratio * x + weight * den, or with the previous estimate
  ;; x = ratio * x + weight * (a * den - b * prev)
  (func (export "dpmpp_2m") (param $x i32) (param $den i32) (param $prev i32) (param $bytes i32)
    (param $ratio f64) (param $weight f64) (param $a f64) (param $b f64) (param $second i32)
    (local $i i32) (local $r v128) (local $w v128) (local $av v128) (local $bv v128) (local $e v128)
    (local.set $r (f64x2.splat (local.get $ratio)))
    (local.set $w (f64x2.splat (local.get $weight)))
    (local.set $av (f64x2.splat (local.get $a)))
    (local.set $bv (f64x2.splat (local.get $b)))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (local.set $e (v128.load (i32.add (local.get $den) (local.get $i))))
        (if (local.get $second)
          (then
            (local.set $e
              (f64x2.sub (f64x2.mul (local.get $av) (local.get $e))
                (f64x2.mul (local.get $bv) (v128.load (i32.add (local.get $prev) (local.get $i))))))))
        (v128.store (i32.add (local.get $x) (local.get $i))
          (f64x2.add
            (f64x2.mul (local.get $r) (v128.load (i32.add (local.get $x) (local.get $i))))
            (f64x2.mul (local.get $w) (local.get $e))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair))))

  ;; xoshiro128** from the four 32-bit words at $state, left advanced: $count uniforms in (0, 1) with 53 bits each, as
  ;; float64 at $out. Each takes two draws, hi then lo: ((hi >>> 5) * 2^26 + (lo >>> 6) + 0.5) / 2^53 (exact).
  (func (export "xoshiro_uniforms") (param $state i32) (param $out i32) (param $count i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32) (local $t i32) (local $hi i32) (local $end i32)
    (local.set $s0 (i32.load (local.get $state)))
    (local.set $s1 (i32.load offset=4 (local.get $state)))
    (local.set $s2 (i32.load offset=8 (local.get $state)))
    (local.set $s3 (i32.load offset=12 (local.get $state)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (loop $value
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        ;; draw: result = rotl(s1 * 5, 7) * 9, then the state's update
        (local.set $hi (i32.shr_u (i32.mul (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)) (i32.const 5)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        ;; the second draw gives lo
        (f64.store (local.get $out)
          (f64.div
            (f64.add
              (f64.add
                (f64.mul (f64.convert_i32_u (local.get $hi)) (f64.const 67108864))
                (f64.convert_i32_u
                  (i32.shr_u (i32.mul (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)) (i32.const 6))))
              (f64.const 0.5))
            (f64.const 9007199254740992)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $value)))
    (i32.store (local.get $state) (local.get $s0))
    (i32.store offset=4 (local.get $state) (local.get $s1))
    (i32.store offset=8 (local.get $state) (local.get $s2))
    (i32.store offset=12 (local.get $state) (local.get $s3)))

  ;; Philox4x32-10 with cuRAND's constants, key ($k0, $k1), for the counters ($c0, $c1, i, 0) with i = 0 .. $count - 1:
  ;; each block's first two output words, as unsigned 32-bit pairs at $out. A round maps (x0, x1, x2, x3) to
  ;; (hi(x2 * M1) ^ x1 ^ k0, lo(x2 * M1), hi(x0 * M0) ^ x3 ^ k1, lo(x0 * M0)) and bumps the key by (W0, W1).
  (func (export "philox_pairs") (param $out i32) (param $count i32) (param $c0 i32) (param $c1 i32) (param $k0 i32) (param $k1 i32)
    (local $i i32) (local $round i32) (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32) (local $a i32) (local $b i32)
    (local $p0 i64) (local $p1 i64)
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $x0 (local.get $c0))
        (local.set $x1 (local.get $c1))
        (local.set $x2 (local.get $i))
        (local.set $x3 (i32.const 0))
        (local.set $a (local.get $k0))
        (local.set $b (local.get $k1))
        (local.set $round (i32.const 0))
        (loop $rounds
          (local.set $p0 (i64.mul (i64.extend_i32_u (local.get $x0)) (i64.const 0xd2511f53)))
          (local.set $p1 (i64.mul (i64.extend_i32_u (local.get $x2)) (i64.const 0xcd9e8d57)))
          (local.set $x0 (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p1) (i64.const 32))) (local.get $x1)) (local.get $a)))
          (local.set $x1 (i32.wrap_i64 (local.get $p1)))
          (local.set $x2 (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p0) (i64.const 32))) (local.get $x3)) (local.get $b)))
          (local.set $x3 (i32.wrap_i64 (local.get $p0)))
          (local.set $a (i32.add (local.get $a) (i32.const 0x9e3779b9)))
          (local.set $b (i32.add (local.get $b) (i32.const 0xbb67ae85)))
          (local.set $round (i32.add (local.get $round) (i32.const 1)))
          (br_if $rounds (i32.lt_u (local.get $round) (i32.const 10))))
        (i32.store (local.get $out) (local.get $x0))
        (i32.store offset=4 (local.get $out) (local.get $x1))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $block))))

  ;; float32 <-> IEEE half bit patterns, four lanes of 32-bit integer arithmetic at a time (the same rounding as
  ;; model/half.ts's loops: to nearest, ties to even; subnormals, infinities and NaN kept, NaN as a quiet NaN with the
  ;; top of its payload). $count is rounded up to 8: the lanes past it read and write what the pad holds.

  ;; the half of one float32's bits $u (four lanes), sign included
  (func $half_of (param $u v128) (result v128)
    (local $a v128) (local $normal v128) (local $small v128) (local $nan v128)
    (local.set $a (v128.and (local.get $u) (i32x4.splat (i32.const 0x7fffffff))))
    ;; normal halves: rebias the exponent (127 -> 15), round the 13 dropped bits to nearest even by adding 0xfff plus
    ;; the kept last bit, shift; a carry into the exponent is right, and anything from 65520 up becomes infinity
    (local.set $normal
      (i32x4.min_u
        (i32x4.shr_u
          (i32x4.add
            (i32x4.add (local.get $a) (i32x4.splat (i32.const 0xc8000fff)))
            (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (i32x4.splat (i32.const 1))))
          (i32.const 13))
        (i32x4.splat (i32.const 0x7c00))))
    ;; below 2^-14 (subnormal halves and zero): |x| + 0.5 rounds |x| to a multiple of 2^-24, to nearest even, in
    ;; float32 addition; its low mantissa bits are then the half's
    (local.set $small
      (i32x4.sub
        (f32x4.add (local.get $a) (f32x4.splat (f32.const 0.5)))
        (i32x4.splat (i32.const 0x3f000000))))
    (local.set $nan
      (v128.or (i32x4.splat (i32.const 0x7e00)) (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (i32x4.splat (i32.const 0x3ff)))))
    (v128.or
      (v128.and (i32x4.shr_u (local.get $u) (i32.const 16)) (i32x4.splat (i32.const 0x8000)))
      (v128.bitselect
        (local.get $nan)
        (v128.bitselect (local.get $small) (local.get $normal) (i32x4.lt_u (local.get $a) (i32x4.splat (i32.const 0x38800000))))
        (i32x4.gt_u (local.get $a) (i32x4.splat (i32.const 0x7f800000))))))

  ;; half bit patterns at $out from the float32 values at $in
  (func (export "to_half") (param $out i32) (param $in i32) (param $count i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $in) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $eight
        (br_if $done (i32.ge_u (local.get $in) (local.get $end)))
        (v128.store (local.get $out)
          (i16x8.narrow_i32x4_u
            (call $half_of (v128.load (local.get $in)))
            (call $half_of (v128.load offset=16 (local.get $in)))))
        (local.set $in (i32.add (local.get $in) (i32.const 32)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $eight))))

  ;; the float32 bits of four halves $h (32-bit lanes): the half's exponent and mantissa bits moved up to a float32's
  ;; and scaled by 2^112 (the exponent's rebias, exact for normal and subnormal values alike), infinities kept, NaN as
  ;; 0x7fc00000 (what a NaN becomes in a Float32Array)
  (func $float_of (param $h v128) (result v128)
    (local $a v128) (local $o v128)
    (local.set $a (v128.and (local.get $h) (i32x4.splat (i32.const 0x7fff))))
    (local.set $o (f32x4.mul (i32x4.shl (local.get $a) (i32.const 13)) (f32x4.splat (f32.const 0x1p112))))
    (local.set $o
      (v128.bitselect (i32x4.splat (i32.const 0x7f800000)) (local.get $o) (i32x4.eq (local.get $a) (i32x4.splat (i32.const 0x7c00)))))
    (v128.bitselect
      (i32x4.splat (i32.const 0x7fc00000))
      (v128.or (local.get $o) (i32x4.shl (v128.and (local.get $h) (i32x4.splat (i32.const 0x8000))) (i32.const 16)))
      (i32x4.gt_u (local.get $a) (i32x4.splat (i32.const 0x7c00)))))

  ;; float32 values at $out from the half bit patterns at $in
  (func (export "from_half") (param $out i32) (param $in i32) (param $count i32)
    (local $end i32) (local $h v128)
    (local.set $end (i32.add (local.get $in) (i32.shl (local.get $count) (i32.const 1))))
    (block $done
      (loop $eight
        (br_if $done (i32.ge_u (local.get $in) (local.get $end)))
        (local.set $h (v128.load (local.get $in)))
        (v128.store (local.get $out) (call $float_of (i32x4.extend_low_i16x8_u (local.get $h))))
        (v128.store offset=16 (local.get $out) (call $float_of (i32x4.extend_high_i16x8_u (local.get $h))))
        (local.set $in (i32.add (local.get $in) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (br $eight))))

  ;; torch.randn's CPU normals (noise/torch-cpu.ts): the Box-Muller of torch's AVX2 normal_fill_16, in float32 as GCC
  ;; compiles avx_mathfun's log and sincos (most multiply-adds fused). Float64 here holds each float32 value; $f32
  ;; rounds to float32 after each operation, and $fma32 rounds a multiply-add once. The constants are the float32
  ;; values of the Cephes constants torch's source writes, exactly.

  (func $f32 (param $x f64) (result f64) (f64.promote_f32 (f32.demote_f64 (local.get $x))))

  ;; a * b + c rounded once to float32, for float32 a, b, c: a * b is exact in float64, and p + c rounded to float64
  ;; then to float32 differs from one rounding only when the float64 sum lies exactly halfway between two float32
  ;; values; then the sign of the float64 rounding error decides
  (func $fma32 (param $a f64) (param $b f64) (param $c f64) (result f64)
    (local $p f64) (local $s f64) (local $r f64) (local $other f64) (local $bb f64) (local $err f64)
    (local.set $p (f64.mul (local.get $a) (local.get $b)))
    (local.set $s (f64.add (local.get $p) (local.get $c)))
    (local.set $r (call $f32 (local.get $s)))
    (if (f64.eq (local.get $r) (local.get $s)) (then (return (local.get $r))))
    (local.set $other (f64.sub (f64.mul (f64.const 2) (local.get $s)) (local.get $r)))
    (if (f64.ne (call $f32 (local.get $other)) (local.get $other)) (then (return (local.get $r))))
    (local.set $bb (f64.sub (local.get $s) (local.get $p)))
    (local.set $err
      (f64.add (f64.sub (local.get $p) (f64.sub (local.get $s) (local.get $bb))) (f64.sub (local.get $c) (local.get $bb))))
    (if (f64.eq (local.get $err) (f64.const 0)) (then (return (local.get $r))))
    (if (result f64) (f64.gt (local.get $err) (f64.const 0))
      (then (f64.max (local.get $r) (local.get $other)))
      (else (f64.min (local.get $r) (local.get $other)))))

  ;; log256_ps of u = m / 2^24, 1 <= m <= 2^24: x * 2^e with x = m / 2^bits in [0.5, 1) from m's bit length
  (func $log_avx (param $m i32) (result f64)
    (local $bits i32) (local $e f64) (local $x f64) (local $y f64) (local $z f64)
    (local.set $bits (i32.sub (i32.const 32) (i32.clz (local.get $m))))
    (local.set $e (f64.convert_i32_s (i32.sub (local.get $bits) (i32.const 24))))
    (local.set $x (f64.div (f64.convert_i32_u (local.get $m)) (f64.convert_i32_u (i32.shl (i32.const 1) (local.get $bits)))))
    (if (f64.lt (local.get $x) (f64.const 0x1.6a09e6p-1))
      (then
        (local.set $e (f64.sub (local.get $e) (f64.const 1)))
        (local.set $x (call $f32 (f64.add (call $f32 (f64.sub (local.get $x) (f64.const 1))) (local.get $x)))))
      (else (local.set $x (call $f32 (f64.sub (local.get $x) (f64.const 1))))))
    (local.set $z (call $f32 (f64.mul (local.get $x) (local.get $x))))
    (local.set $y (call $fma32 (f64.const 0x1.204376p-4) (local.get $x) (f64.const -0x1.d7a37p-4)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const 0x1.de4a34p-4)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const -0x1.fcba9ep-4)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const 0x1.23d37ep-3)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const -0x1.555cap-3)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const 0x1.999d58p-3)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const -0x1.fffff8p-3)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const 0x1.555554p-2)))
    (local.set $y (call $f32 (f64.mul (local.get $y) (local.get $x))))
    ;; GCC fuses y * z into the add of e * q1
    (local.set $y (call $fma32 (local.get $y) (local.get $z) (call $f32 (f64.mul (local.get $e) (f64.const -0x1.bd0106p-13)))))
    (local.set $y (call $f32 (f64.sub (local.get $y) (f64.mul (local.get $z) (f64.const 0.5)))))
    (local.set $x (call $f32 (f64.add (local.get $x) (local.get $y))))
    (call $f32 (f64.add (local.get $x) (f64.mul (local.get $e) (f64.const 0x1.63p-1)))))

  (global $sin (mut f64) (f64.const 0))
  (global $cos (mut f64) (f64.const 0))

  ;; sincos256_ps for 0 <= x < 2 pi, into $sin and $cos: Cody-Waite reduction by j * pi / 4 in three parts
  (func $sin_cos_avx (param $x f64)
    (local $j i32) (local $jf f64) (local $z f64) (local $c f64) (local $s f64) (local $sn f64) (local $cs f64)
    (local.set $j
      (i32.and
        (i32.add (i32.trunc_f64_s (call $f32 (f64.mul (local.get $x) (f64.const 0x1.45f306p+0)))) (i32.const 1))
        (i32.const -2)))
    (local.set $jf (f64.convert_i32_s (local.get $j)))
    (local.set $x (call $f32 (f64.add (local.get $x) (f64.mul (local.get $jf) (f64.const -0x1.92p-1)))))
    (local.set $x (call $f32 (f64.add (local.get $x) (f64.mul (local.get $jf) (f64.const -0x1.fb4p-13)))))
    (local.set $x (call $f32 (f64.add (local.get $x) (f64.mul (local.get $jf) (f64.const -0x1.4442d2p-25)))))
    (local.set $z (call $f32 (f64.mul (local.get $x) (local.get $x))))
    (local.set $c (call $fma32 (f64.const 0x1.99eb9cp-16) (local.get $z) (f64.const -0x1.6c0c34p-10)))
    (local.set $c (call $fma32 (local.get $c) (local.get $z) (f64.const 0x1.55554ap-5)))
    (local.set $c (call $f32 (f64.mul (local.get $c) (local.get $z))))
    (local.set $c (call $fma32 (local.get $c) (local.get $z) (f64.mul (f64.neg (local.get $z)) (f64.const 0.5))))
    (local.set $c (call $f32 (f64.add (local.get $c) (f64.const 1))))
    (local.set $s (call $fma32 (f64.const -0x1.9943f2p-13) (local.get $z) (f64.const 0x1.11073cp-7)))
    (local.set $s (call $fma32 (local.get $s) (local.get $z) (f64.const -0x1.555546p-3)))
    (local.set $s (call $f32 (f64.mul (local.get $s) (local.get $z))))
    (local.set $s (call $fma32 (local.get $s) (local.get $x) (local.get $x)))
    (if (i32.and (local.get $j) (i32.const 2))
      (then (local.set $sn (local.get $c)) (local.set $cs (local.get $s)))
      (else (local.set $sn (local.get $s)) (local.set $cs (local.get $c))))
    (global.set $sin (select (f64.neg (local.get $sn)) (local.get $sn) (i32.and (local.get $j) (i32.const 4))))
    (global.set $cos
      (select (f64.neg (local.get $cs)) (local.get $cs)
        (i32.and (i32.xor (i32.sub (local.get $j) (i32.const 2)) (i32.const -1)) (i32.const 4)))))

  ;; $blocks blocks of 16 24-bit uniform numerators k (u = k / 2^24, int32 at $raw) to normals (float64 at $out): in
  ;; each block, j with j + 8: r = sqrt(-2 log(1 - u[j])), theta = 2 pi u[j + 8], r cos theta and r sin theta
  (func (export "torch_cpu_normals") (param $raw i32) (param $out i32) (param $blocks i32)
    (local $end i32) (local $j i32) (local $radius f64)
    (local.set $end (i32.add (local.get $raw) (i32.shl (local.get $blocks) (i32.const 6))))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $raw) (local.get $end)))
        (local.set $j (i32.const 0))
        (loop $pair
          (local.set $radius
            (call $f32
              (f64.sqrt
                (f64.mul (f64.const -2)
                  (call $log_avx (i32.sub (i32.const 16777216) (i32.load (i32.add (local.get $raw) (i32.shl (local.get $j) (i32.const 2))))))))))
          (call $sin_cos_avx
            (call $f32
              (f64.mul (f64.const 0x1.921fb6p+2)
                (f64.mul
                  (f64.convert_i32_s (i32.load offset=32 (i32.add (local.get $raw) (i32.shl (local.get $j) (i32.const 2)))))
                  (f64.const 0x1p-24)))))
          (f64.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3)))
            (call $f32 (f64.mul (local.get $radius) (global.get $cos))))
          (f64.store offset=64 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3)))
            (call $f32 (f64.mul (local.get $radius) (global.get $sin))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $pair (i32.lt_u (local.get $j) (i32.const 8))))
        (local.set $raw (i32.add (local.get $raw) (i32.const 64)))
        (local.set $out (i32.add (local.get $out) (i32.const 128)))
        (br $block))))
)
