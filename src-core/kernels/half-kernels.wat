;; The kernels' half-precision part (one module with latent-kernels.wat and noise-kernels.wat): float32 <-> IEEE half
;; bit patterns in bulk (kernels/half-kernels.ts) and an fp16 UNet's side of the latent loops (kernels/latent-kernels.ts).

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

  ;; An fp16 UNet's side, four values at a time ($bytes as in latent-kernels.wat; up to two values past it are read and
  ;; written).

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
    (param $cSkip f64) (param $cOut f64) (param $w f64) (param $guided i32) (result i32)
    (local $i i32) (local $k v128) (local $o v128) (local $g v128) (local $uf v128) (local $cf v128) (local $lo v128) (local $hi v128)
    (local $bad v128)
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
        (local.set $lo
          (f64x2.add
            (f64x2.mul (local.get $k) (v128.load (i32.add (local.get $x) (local.get $i))))
            (f64x2.mul (local.get $o) (local.get $lo))))
        (local.set $hi
          (f64x2.add
            (f64x2.mul (local.get $k) (v128.load offset=16 (i32.add (local.get $x) (local.get $i))))
            (f64x2.mul (local.get $o) (local.get $hi))))
        (v128.store (i32.add (local.get $d) (local.get $i)) (local.get $lo))
        (v128.store offset=16 (i32.add (local.get $d) (local.get $i)) (local.get $hi))
        (local.set $bad
          (v128.or (local.get $bad) (v128.or (f64x2.sub (local.get $lo) (local.get $lo)) (f64x2.sub (local.get $hi) (local.get $hi)))))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $four)))
    (i32.eqz (v128.any_true (local.get $bad))))
