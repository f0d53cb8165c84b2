;; The kernels' linear-step part (one module with latent-kernels.wat, half-kernels.wat and noise-kernels.wat): a
;; sampler's whole step between two UNet calls in one pass over the latent (kernels/linear-step.ts), where the
;; denoiser's combine, the sampler's update and the next input's scaling took three passes and three calls.

  ;; With u, c the UNet's two halves (float32 values, or half bit patterns when $flags has 2) and y the evaluation
  ;; point:
  ;;   g = u + w (c - u) when guided ($flags has 1), otherwise u
  ;;   D = c_skip y + c_out g (stored at $d; the result is 1 when every D is finite)
  ;;   x = ax x + ap y + ad D [+ aq prev when $flags has 4] [+ az z when $flags has 8]
  ;;   y' = nx x + np y + nd D (x before its update) when $flags has 16 (stored at $yNext), otherwise the new x
  ;;   s = float32(c_in y') (or its half bit pattern), at $s and, when guided, again at $s2
  ;; Four values at a time (32 bytes of float64): $bytes is a multiple of 32. $y may be $x, and $yNext may be $y.
  (func (export "linear_step") (param $x i32) (param $y i32) (param $yNext i32) (param $d i32) (param $prev i32) (param $z i32)
    (param $u i32) (param $c i32) (param $s i32) (param $s2 i32) (param $bytes i32) (param $flags i32)
    (param $cSkip f64) (param $cOut f64) (param $w f64) (param $ax f64) (param $ap f64) (param $ad f64) (param $aq f64)
    (param $az f64) (param $nx f64) (param $np f64) (param $nd f64) (param $cIn f64) (result i32)
    (local $i i32) (local $guided i32) (local $half i32) (local $hasPrev i32) (local $hasNoise i32) (local $hasNext i32)
    (local $uf v128) (local $cf v128) (local $lo v128) (local $hi v128) (local $ylo v128) (local $yhi v128)
    (local $dlo v128) (local $dhi v128) (local $olo v128) (local $ohi v128) (local $xlo v128) (local $xhi v128) (local $f v128)
    (local $bad v128)
    (local.set $guided (i32.and (local.get $flags) (i32.const 1)))
    (local.set $half (i32.and (local.get $flags) (i32.const 2)))
    (local.set $hasPrev (i32.and (local.get $flags) (i32.const 4)))
    (local.set $hasNoise (i32.and (local.get $flags) (i32.const 8)))
    (local.set $hasNext (i32.and (local.get $flags) (i32.const 16)))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        ;; the UNet's four values as float32 lanes, then as two float64 pairs
        (if (local.get $half)
          (then (local.set $uf
            (call $float_of (i32x4.extend_low_i16x8_u (v128.load64_zero (i32.add (local.get $u) (i32.shr_u (local.get $i) (i32.const 2))))))))
          (else (local.set $uf (v128.load (i32.add (local.get $u) (i32.shr_u (local.get $i) (i32.const 1)))))))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $uf)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $uf) (local.get $uf))))
        (if (local.get $guided)
          (then
            (if (local.get $half)
              (then (local.set $cf
                (call $float_of (i32x4.extend_low_i16x8_u (v128.load64_zero (i32.add (local.get $c) (i32.shr_u (local.get $i) (i32.const 2))))))))
              (else (local.set $cf (v128.load (i32.add (local.get $c) (i32.shr_u (local.get $i) (i32.const 1)))))))
            (local.set $lo
              (f64x2.add (local.get $lo) (f64x2.mul (f64x2.splat (local.get $w)) (f64x2.sub (f64x2.promote_low_f32x4 (local.get $cf)) (local.get $lo)))))
            (local.set $hi
              (f64x2.add (local.get $hi)
                (f64x2.mul (f64x2.splat (local.get $w))
                  (f64x2.sub
                    (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $cf) (local.get $cf)))
                    (local.get $hi)))))))
        ;; D at the point y
        (local.set $ylo (v128.load (i32.add (local.get $y) (local.get $i))))
        (local.set $yhi (v128.load offset=16 (i32.add (local.get $y) (local.get $i))))
        (local.set $dlo
          (f64x2.add (f64x2.mul (f64x2.splat (local.get $cSkip)) (local.get $ylo)) (f64x2.mul (f64x2.splat (local.get $cOut)) (local.get $lo))))
        (local.set $dhi
          (f64x2.add (f64x2.mul (f64x2.splat (local.get $cSkip)) (local.get $yhi)) (f64x2.mul (f64x2.splat (local.get $cOut)) (local.get $hi))))
        (v128.store (i32.add (local.get $d) (local.get $i)) (local.get $dlo))
        (v128.store offset=16 (i32.add (local.get $d) (local.get $i)) (local.get $dhi))
        (local.set $bad
          (v128.or (local.get $bad) (v128.or (f64x2.sub (local.get $dlo) (local.get $dlo)) (f64x2.sub (local.get $dhi) (local.get $dhi)))))
        ;; the sampler's update of x
        (local.set $olo (v128.load (i32.add (local.get $x) (local.get $i))))
        (local.set $ohi (v128.load offset=16 (i32.add (local.get $x) (local.get $i))))
        (local.set $xlo
          (f64x2.add
            (f64x2.add
              (f64x2.mul (f64x2.splat (local.get $ax)) (local.get $olo))
              (f64x2.mul (f64x2.splat (local.get $ap)) (local.get $ylo)))
            (f64x2.mul (f64x2.splat (local.get $ad)) (local.get $dlo))))
        (local.set $xhi
          (f64x2.add
            (f64x2.add
              (f64x2.mul (f64x2.splat (local.get $ax)) (local.get $ohi))
              (f64x2.mul (f64x2.splat (local.get $ap)) (local.get $yhi)))
            (f64x2.mul (f64x2.splat (local.get $ad)) (local.get $dhi))))
        (if (local.get $hasPrev)
          (then
            (local.set $xlo
              (f64x2.add (local.get $xlo) (f64x2.mul (f64x2.splat (local.get $aq)) (v128.load (i32.add (local.get $prev) (local.get $i))))))
            (local.set $xhi
              (f64x2.add (local.get $xhi)
                (f64x2.mul (f64x2.splat (local.get $aq)) (v128.load offset=16 (i32.add (local.get $prev) (local.get $i))))))))
        (if (local.get $hasNoise)
          (then
            (local.set $xlo
              (f64x2.add (local.get $xlo) (f64x2.mul (f64x2.splat (local.get $az)) (v128.load (i32.add (local.get $z) (local.get $i))))))
            (local.set $xhi
              (f64x2.add (local.get $xhi) (f64x2.mul (f64x2.splat (local.get $az)) (v128.load offset=16 (i32.add (local.get $z) (local.get $i))))))))
        (v128.store (i32.add (local.get $x) (local.get $i)) (local.get $xlo))
        (v128.store offset=16 (i32.add (local.get $x) (local.get $i)) (local.get $xhi))
        ;; the next point: x itself, or a point of its own
        (if (local.get $hasNext)
          (then
            (local.set $xlo
              (f64x2.add
                (f64x2.add (f64x2.mul (f64x2.splat (local.get $nx)) (local.get $olo)) (f64x2.mul (f64x2.splat (local.get $np)) (local.get $ylo)))
                (f64x2.mul (f64x2.splat (local.get $nd)) (local.get $dlo))))
            (local.set $xhi
              (f64x2.add
                (f64x2.add (f64x2.mul (f64x2.splat (local.get $nx)) (local.get $ohi)) (f64x2.mul (f64x2.splat (local.get $np)) (local.get $yhi)))
                (f64x2.mul (f64x2.splat (local.get $nd)) (local.get $dhi))))
            (v128.store (i32.add (local.get $yNext) (local.get $i)) (local.get $xlo))
            (v128.store offset=16 (i32.add (local.get $yNext) (local.get $i)) (local.get $xhi))))
        ;; the UNet's next input: four float32 lanes, or their halves
        (local.set $f
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.splat (local.get $cIn)) (local.get $xlo)))
            (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.splat (local.get $cIn)) (local.get $xhi)))))
        (if (local.get $half)
          (then
            (local.set $f (call $half_of (local.get $f)))
            (local.set $f (i16x8.narrow_i32x4_u (local.get $f) (local.get $f)))
            (v128.store64_lane 0 (i32.add (local.get $s) (i32.shr_u (local.get $i) (i32.const 2))) (local.get $f))
            (if (local.get $guided)
              (then (v128.store64_lane 0 (i32.add (local.get $s2) (i32.shr_u (local.get $i) (i32.const 2))) (local.get $f)))))
          (else
            (v128.store (i32.add (local.get $s) (i32.shr_u (local.get $i) (i32.const 1))) (local.get $f))
            (if (local.get $guided)
              (then (v128.store (i32.add (local.get $s2) (i32.shr_u (local.get $i) (i32.const 1))) (local.get $f))))))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $four)))
    (i32.eqz (v128.any_true (local.get $bad))))
