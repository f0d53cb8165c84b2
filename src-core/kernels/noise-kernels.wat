;; The kernels' noise part (one module with latent-kernels.wat and half-kernels.wat): the default source's generator,
;; torch-cuda's Philox blocks, and torch-cpu's mt19937 and normal blocks (kernels/noise-kernels.ts).

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

  ;; mt19937 (torch's CPU generator): $count outputs masked to their low 24 bits (torch's float uniform numerators), as
  ;; int32 at $out, from the 624 state words at $state, $next the index of the next word (624: twist first). The state
  ;; is left advanced; returns the new index.
  (func (export "mt_fill24") (param $state i32) (param $next i32) (param $out i32) (param $count i32) (result i32)
    (local $end i32) (local $y i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $draw
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (if (i32.ge_u (local.get $next) (i32.const 624))
          (then (call $mt_twist (local.get $state)) (local.set $next (i32.const 0))))
        (local.set $y (i32.load (i32.add (local.get $state) (i32.shl (local.get $next) (i32.const 2)))))
        (local.set $next (i32.add (local.get $next) (i32.const 1)))
        ;; tempering
        (local.set $y (i32.xor (local.get $y) (i32.shr_u (local.get $y) (i32.const 11))))
        (local.set $y (i32.xor (local.get $y) (i32.and (i32.shl (local.get $y) (i32.const 7)) (i32.const 0x9d2c5680))))
        (local.set $y (i32.xor (local.get $y) (i32.and (i32.shl (local.get $y) (i32.const 15)) (i32.const 0xefc60000))))
        (local.set $y (i32.xor (local.get $y) (i32.shr_u (local.get $y) (i32.const 18))))
        (i32.store (local.get $out) (i32.and (local.get $y) (i32.const 0xffffff)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $draw)))
    (local.get $next))

  ;; the next 624 words in place, in order: mt[k] = mt[k + 397] ^ (y >>> 1) ^ (-(y & 1) & 0x9908b0df) with
  ;; y = (mt[k] & 0x80000000) | (mt[k + 1] & 0x7fffffff), indices mod 624 (words past k are already the new ones)
  (func $mt_twist (param $state i32)
    (local $k i32) (local $next i32) (local $far i32) (local $y i32)
    (loop $word
      (local.set $next (i32.add (local.get $k) (i32.const 1)))
      (if (i32.eq (local.get $next) (i32.const 624)) (then (local.set $next (i32.const 0))))
      (local.set $far (i32.add (local.get $k) (i32.const 397)))
      (if (i32.ge_u (local.get $far) (i32.const 624)) (then (local.set $far (i32.sub (local.get $far) (i32.const 624)))))
      (local.set $y
        (i32.or
          (i32.and (i32.load (i32.add (local.get $state) (i32.shl (local.get $k) (i32.const 2)))) (i32.const 0x80000000))
          (i32.and (i32.load (i32.add (local.get $state) (i32.shl (local.get $next) (i32.const 2)))) (i32.const 0x7fffffff))))
      (i32.store (i32.add (local.get $state) (i32.shl (local.get $k) (i32.const 2)))
        (i32.xor
          (i32.xor
            (i32.load (i32.add (local.get $state) (i32.shl (local.get $far) (i32.const 2))))
            (i32.shr_u (local.get $y) (i32.const 1)))
          (i32.and (i32.sub (i32.const 0) (i32.and (local.get $y) (i32.const 1))) (i32.const 0x9908b0df))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $word (i32.lt_u (local.get $k) (i32.const 624)))))

  ;; torch.randn's CPU normals (noise/torch-cpu.ts): the Box-Muller of torch's AVX2 normal_fill_16, in float32 as GCC
  ;; compiles avx_mathfun's log and sincos (most multiply-adds fused). Float64 here holds each float32 value, rounded
  ;; to float32 after each operation (promote_f32 (demote_f64 ...)), and $fma32 rounds a multiply-add once. The constants are the float32
  ;; values of the Cephes constants torch's source writes, exactly.

  ;; a * b + c rounded once to float32, for float32 a, b, c: a * b is exact in float64, and p + c rounded to float64
  ;; then to float32 differs from one rounding only when the float64 sum lies exactly halfway between two float32
  ;; values; then the sign of the float64 rounding error decides
  (func $fma32 (param $a f64) (param $b f64) (param $c f64) (result f64)
    (local $p f64) (local $s f64) (local $r f64) (local $other f64) (local $bb f64) (local $err f64)
    (local.set $p (f64.mul (local.get $a) (local.get $b)))
    (local.set $s (f64.add (local.get $p) (local.get $c)))
    (local.set $r (f64.promote_f32 (f32.demote_f64 (local.get $s))))
    (if (f64.eq (local.get $r) (local.get $s)) (then (return (local.get $r))))
    (local.set $other (f64.sub (f64.mul (f64.const 2) (local.get $s)) (local.get $r)))
    (if (f64.ne (f64.promote_f32 (f32.demote_f64 (local.get $other))) (local.get $other)) (then (return (local.get $r))))
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
        (local.set $x (f64.promote_f32 (f32.demote_f64 (f64.add (f64.promote_f32 (f32.demote_f64 (f64.sub (local.get $x) (f64.const 1)))) (local.get $x))))))
      (else (local.set $x (f64.promote_f32 (f32.demote_f64 (f64.sub (local.get $x) (f64.const 1)))))))
    (local.set $z (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $x) (local.get $x)))))
    (local.set $y (call $fma32 (f64.const 0x1.204376p-4) (local.get $x) (f64.const -0x1.d7a37p-4)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const 0x1.de4a34p-4)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const -0x1.fcba9ep-4)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const 0x1.23d37ep-3)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const -0x1.555cap-3)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const 0x1.999d58p-3)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const -0x1.fffff8p-3)))
    (local.set $y (call $fma32 (local.get $y) (local.get $x) (f64.const 0x1.555554p-2)))
    (local.set $y (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $y) (local.get $x)))))
    ;; GCC fuses y * z into the add of e * q1
    (local.set $y (call $fma32 (local.get $y) (local.get $z) (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $e) (f64.const -0x1.bd0106p-13))))))
    (local.set $y (f64.promote_f32 (f32.demote_f64 (f64.sub (local.get $y) (f64.mul (local.get $z) (f64.const 0.5))))))
    (local.set $x (f64.promote_f32 (f32.demote_f64 (f64.add (local.get $x) (local.get $y)))))
    (f64.promote_f32 (f32.demote_f64 (f64.add (local.get $x) (f64.mul (local.get $e) (f64.const 0x1.63p-1))))))

  (global $sin (mut f64) (f64.const 0))
  (global $cos (mut f64) (f64.const 0))

  ;; sincos256_ps for 0 <= x < 2 pi, into $sin and $cos: Cody-Waite reduction by j * pi / 4 in three parts
  (func $sin_cos_avx (param $x f64)
    (local $j i32) (local $jf f64) (local $z f64) (local $c f64) (local $s f64) (local $sn f64) (local $cs f64)
    (local.set $j
      (i32.and
        (i32.add (i32.trunc_f64_s (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $x) (f64.const 0x1.45f306p+0))))) (i32.const 1))
        (i32.const -2)))
    (local.set $jf (f64.convert_i32_s (local.get $j)))
    (local.set $x (f64.promote_f32 (f32.demote_f64 (f64.add (local.get $x) (f64.mul (local.get $jf) (f64.const -0x1.92p-1))))))
    (local.set $x (f64.promote_f32 (f32.demote_f64 (f64.add (local.get $x) (f64.mul (local.get $jf) (f64.const -0x1.fb4p-13))))))
    (local.set $x (f64.promote_f32 (f32.demote_f64 (f64.add (local.get $x) (f64.mul (local.get $jf) (f64.const -0x1.4442d2p-25))))))
    (local.set $z (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $x) (local.get $x)))))
    (local.set $c (call $fma32 (f64.const 0x1.99eb9cp-16) (local.get $z) (f64.const -0x1.6c0c34p-10)))
    (local.set $c (call $fma32 (local.get $c) (local.get $z) (f64.const 0x1.55554ap-5)))
    (local.set $c (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $c) (local.get $z)))))
    (local.set $c (call $fma32 (local.get $c) (local.get $z) (f64.mul (f64.neg (local.get $z)) (f64.const 0.5))))
    (local.set $c (f64.promote_f32 (f32.demote_f64 (f64.add (local.get $c) (f64.const 1)))))
    (local.set $s (call $fma32 (f64.const -0x1.9943f2p-13) (local.get $z) (f64.const 0x1.11073cp-7)))
    (local.set $s (call $fma32 (local.get $s) (local.get $z) (f64.const -0x1.555546p-3)))
    (local.set $s (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $s) (local.get $z)))))
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
            (f64.promote_f32 (f32.demote_f64               (f64.sqrt
                (f64.mul (f64.const -2)
                  (call $log_avx (i32.sub (i32.const 16777216) (i32.load (i32.add (local.get $raw) (i32.shl (local.get $j) (i32.const 2)))))))))))
          (call $sin_cos_avx
            (f64.promote_f32 (f32.demote_f64               (f64.mul (f64.const 0x1.921fb6p+2)
                (f64.mul
                  (f64.convert_i32_s (i32.load offset=32 (i32.add (local.get $raw) (i32.shl (local.get $j) (i32.const 2)))))
                  (f64.const 0x1p-24))))))
          (f64.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3)))
            (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $radius) (global.get $cos)))))
          (f64.store offset=64 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3)))
            (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $radius) (global.get $sin)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $pair (i32.lt_u (local.get $j) (i32.const 8))))
        (local.set $raw (i32.add (local.get $raw) (i32.const 64)))
        (local.set $out (i32.add (local.get $out) (i32.const 128)))
        (br $block))))
