;; The kernels' latent part (one module with half-kernels.wat and noise-kernels.wat: `npm run build:kernels` wraps the
;; three in it, and this part declares its memory).
;; The latent's element-wise loops, two float64 lanes at a time (V8 runs the same loops in JavaScript one value at a
;; time). Arguments: byte offsets of the arrays in this module's memory, then $bytes, the length of a float64 array
;; in bytes, a whole number of 16-byte pairs (latent-kernels.ts pads an odd count with a zero). A float32 array holds
;; the same count in half the bytes. Each loop does the same operations in the same order as the formula above it,
;; and WebAssembly never fuses a multiply with an add, so the values are those of the formula in JavaScript.
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

  ;; 1 when every a is finite. The finiteness checks here or the bits of v - v together: it is +0 (no bit set) for a
  ;; finite v and NaN otherwise (an or, where a sum of them would wait on the previous pair's addition; written out in
  ;; each loop, as V8 does not inline calls between WebAssembly functions).
  (func (export "all_finite") (param $a i32) (param $bytes i32) (result i32)
    (local $i i32) (local $bad v128) (local $v v128)
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (local.set $v (v128.load (i32.add (local.get $a) (local.get $i))))
        (local.set $bad (v128.or (local.get $bad) (f64x2.sub (local.get $v) (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair)))
    (i32.eqz (v128.any_true (local.get $bad))))

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

  ;; guided: d = c_skip * x + c_out * (u + w * (c - u)); otherwise d = c_skip * x + c_out * u (u and c float32 arrays);
  ;; 1 when every d is finite (the sampler's check of the denoiser's output, in the same pass). d may be x itself.
  (func (export "combine") (param $d i32) (param $x i32) (param $u i32) (param $c i32) (param $bytes i32)
    (param $cSkip f64) (param $cOut f64) (param $w f64) (param $guided i32) (result i32)
    (local $i i32) (local $k v128) (local $o v128) (local $g v128) (local $uv v128) (local $dv v128) (local $bad v128)
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
        (local.set $dv
          (f64x2.add
            (f64x2.mul (local.get $k) (v128.load (i32.add (local.get $x) (local.get $i))))
            (f64x2.mul (local.get $o) (local.get $uv))))
        (v128.store (i32.add (local.get $d) (local.get $i)) (local.get $dv))
        (local.set $bad (v128.or (local.get $bad) (f64x2.sub (local.get $dv) (local.get $dv))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair)))
    (i32.eqz (v128.any_true (local.get $bad))))

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

  ;; A live preview's RGBA bytes, two pixels at a time, from a latent's $channels planes of $planeBytes bytes each
  ;; (float64, an even number of pixels): for each colour, v = k0 + k[0] * x[0] + k[1] * x[1] + ... in channel order,
  ;; then byte = floor(v + 0.5) saturated to [0, 255] (NaN: 0); alpha 255. $k holds float64 values: the three
  ;; colours' k0, then each channel's three weights. $out gets four bytes per pixel.
  (func (export "preview_rgba") (param $out i32) (param $latent i32) (param $k i32) (param $channels i32) (param $planeBytes i32)
    (local $i i32) (local $at i32) (local $w i32) (local $end i32) (local $v v128) (local $r v128) (local $g v128) (local $b v128)
    (local $half v128) (local $alpha v128)
    (local.set $half (f64x2.splat (f64.const 0.5)))
    (local.set $alpha (v128.const i32x4 255 255 0 0))
    (local.set $end (i32.add (local.get $k) (i32.mul (i32.add (local.get $channels) (i32.const 1)) (i32.const 24))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $planeBytes)))
        (local.set $r (v128.load64_splat (local.get $k)))
        (local.set $g (v128.load64_splat offset=8 (local.get $k)))
        (local.set $b (v128.load64_splat offset=16 (local.get $k)))
        (local.set $at (i32.add (local.get $latent) (local.get $i)))
        (local.set $w (i32.add (local.get $k) (i32.const 24)))
        (block $summed
          (loop $channel
            (br_if $summed (i32.ge_u (local.get $w) (local.get $end)))
            (local.set $v (v128.load (local.get $at)))
            (local.set $r (f64x2.add (local.get $r) (f64x2.mul (v128.load64_splat (local.get $w)) (local.get $v))))
            (local.set $g (f64x2.add (local.get $g) (f64x2.mul (v128.load64_splat offset=8 (local.get $w)) (local.get $v))))
            (local.set $b (f64x2.add (local.get $b) (f64x2.mul (v128.load64_splat offset=16 (local.get $w)) (local.get $v))))
            (local.set $at (i32.add (local.get $at) (local.get $planeBytes)))
            (local.set $w (i32.add (local.get $w) (i32.const 24)))
            (br $channel)))
        ;; Each colour's two values to int32 lanes [p, p + 1, 0, 0], then narrowed with saturation to int16 and to
        ;; uint8: bytes [r r 0 0 g g 0 0 b b 0 0 255 255 0 0], shuffled to r g b a r g b a.
        (v128.store64_lane 0 (i32.add (local.get $out) (i32.shr_u (local.get $i) (i32.const 1)))
          (i8x16.shuffle 0 4 8 12 1 5 9 13 0 0 0 0 0 0 0 0
            (i8x16.narrow_i16x8_u
              (i16x8.narrow_i32x4_s
                (i32x4.trunc_sat_f64x2_s_zero (f64x2.floor (f64x2.add (local.get $r) (local.get $half))))
                (i32x4.trunc_sat_f64x2_s_zero (f64x2.floor (f64x2.add (local.get $g) (local.get $half)))))
              (i16x8.narrow_i32x4_s
                (i32x4.trunc_sat_f64x2_s_zero (f64x2.floor (f64x2.add (local.get $b) (local.get $half))))
                (local.get $alpha)))
            (v128.const i32x4 0 0 0 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair))))
