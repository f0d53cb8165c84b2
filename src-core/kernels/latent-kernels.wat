;; The latent's element-wise loops, two float64 lanes at a time (V8 runs the same loops in JavaScript one value at a
;; time, 3-5x slower). Arguments are byte offsets into this module's memory and the element count n; an odd n's last
;; element is done alone. Each loop does the same operations in the same order as the formula above it, and
;; WebAssembly never fuses a multiply with an add, so the values are those of the formula in JavaScript.
(module
  (memory (export "memory") 1)

  ;; x[i] = x[i] + dt * ((x[i] - d[i]) / sigma)
  (func (export "euler_step") (param $x i32) (param $d i32) (param $n i32) (param $sigma f64) (param $dt f64)
    (local $pairsEnd i32) (local $s v128) (local $t v128) (local $v v128)
    (local.set $s (f64x2.splat (local.get $sigma)))
    (local.set $t (f64x2.splat (local.get $dt)))
    (local.set $pairsEnd (i32.add (local.get $x) (i32.shl (i32.shr_u (local.get $n) (i32.const 1)) (i32.const 4))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $x) (local.get $pairsEnd)))
        (local.set $v (v128.load (local.get $x)))
        (v128.store (local.get $x)
          (f64x2.add (local.get $v)
            (f64x2.mul (local.get $t) (f64x2.div (f64x2.sub (local.get $v) (v128.load (local.get $d))) (local.get $s)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $pair)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (f64.store (local.get $x)
          (f64.add (f64.load (local.get $x))
            (f64.mul (local.get $dt) (f64.div (f64.sub (f64.load (local.get $x)) (f64.load (local.get $d))) (local.get $sigma))))))))

  ;; s[i] = float32(c_in * x[i]), and s[n + i] the same when $twice (a guided batch's two halves)
  (func (export "scale_input") (param $s i32) (param $x i32) (param $n i32) (param $cIn f64) (param $twice i32)
    (local $pairsEnd i32) (local $c v128) (local $v v128) (local $half i32)
    (local.set $c (f64x2.splat (local.get $cIn)))
    (local.set $half (i32.shl (local.get $n) (i32.const 2)))
    (local.set $pairsEnd (i32.add (local.get $x) (i32.shl (i32.shr_u (local.get $n) (i32.const 1)) (i32.const 4))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $x) (local.get $pairsEnd)))
        (local.set $v (f32x4.demote_f64x2_zero (f64x2.mul (local.get $c) (v128.load (local.get $x)))))
        (v128.store64_lane 0 (local.get $s) (local.get $v))
        (if (local.get $twice) (then (v128.store64_lane 0 (i32.add (local.get $s) (local.get $half)) (local.get $v))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $s (i32.add (local.get $s) (i32.const 8)))
        (br $pair)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (f32.store (local.get $s) (f32.demote_f64 (f64.mul (local.get $cIn) (f64.load (local.get $x)))))
        (if (local.get $twice)
          (then (f32.store (i32.add (local.get $s) (local.get $half)) (f32.demote_f64 (f64.mul (local.get $cIn) (f64.load (local.get $x))))))))))

  ;; guided: d[i] = c_skip * x[i] + c_out * (u[i] + w * (c[i] - u[i])) with u = out[0..n), c = out[n..2n) (float32)
  ;; otherwise: d[i] = c_skip * x[i] + c_out * out[i]
  (func (export "combine") (param $d i32) (param $x i32) (param $out i32) (param $n i32)
    (param $cSkip f64) (param $cOut f64) (param $w f64) (param $guided i32)
    (local $pairsEnd i32) (local $k v128) (local $o v128) (local $g v128) (local $u v128) (local $cond i32)
    (local.set $k (f64x2.splat (local.get $cSkip)))
    (local.set $o (f64x2.splat (local.get $cOut)))
    (local.set $g (f64x2.splat (local.get $w)))
    (local.set $cond (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $pairsEnd (i32.add (local.get $d) (i32.shl (i32.shr_u (local.get $n) (i32.const 1)) (i32.const 4))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $d) (local.get $pairsEnd)))
        (local.set $u (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $out))))
        (if (local.get $guided)
          (then
            (local.set $u
              (f64x2.add (local.get $u)
                (f64x2.mul (local.get $g)
                  (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $cond))) (local.get $u)))))))
        (v128.store (local.get $d)
          (f64x2.add (f64x2.mul (local.get $k) (v128.load (local.get $x))) (f64x2.mul (local.get $o) (local.get $u))))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $cond (i32.add (local.get $cond) (i32.const 8)))
        (br $pair)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (f64.store (local.get $d)
          (f64.add
            (f64.mul (local.get $cSkip) (f64.load (local.get $x)))
            (f64.mul (local.get $cOut)
              (if (result f64) (local.get $guided)
                (then
                  (f64.add (f64.promote_f32 (f32.load (local.get $out)))
                    (f64.mul (local.get $w)
                      (f64.sub (f64.promote_f32 (f32.load (local.get $cond))) (f64.promote_f32 (f32.load (local.get $out)))))))
                (else (f64.promote_f32 (f32.load (local.get $out)))))))))))

  ;; 1 when every a[i] is finite: a - a is 0 for a finite value and NaN otherwise, and a NaN stays NaN through a sum
  (func (export "all_finite") (param $a i32) (param $n i32) (result i32)
    (local $pairsEnd i32) (local $sum v128) (local $v v128) (local $last f64)
    (local.set $pairsEnd (i32.add (local.get $a) (i32.shl (i32.shr_u (local.get $n) (i32.const 1)) (i32.const 4))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $a) (local.get $pairsEnd)))
        (local.set $v (v128.load (local.get $a)))
        (local.set $sum (f64x2.add (local.get $sum) (f64x2.sub (local.get $v) (local.get $v))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (br $pair)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then (local.set $last (f64.sub (f64.load (local.get $a)) (f64.load (local.get $a))))))
    (f64.eq
      (f64.add (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))) (local.get $last))
      (f64.const 0)))
)
