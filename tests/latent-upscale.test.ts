// A1111's six latent hires upscalers against torch.nn.functional.interpolate (fixtures/hires/make_latent_upscale_vectors.py,
// torch 1.13 CPU in float64, so 1e-9 holds: the values are stored to 11 decimals), and their names both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { interpolateLatents, LATENT_UPSCALE_MODES, latentModeOf, type LatentUpscaleMode } from '../src-core/pipeline/latent-upscale.ts';
import { HIRES_UPSCALERS, HIRES_UPSCALER_LABELS } from '../src-core/contract/images.ts';
import { img2imgValues, readImg2imgValues } from '../src-core/pipeline/metadata-img2img.ts';
import type { GenerateRequest } from '../src-core/contract/generate.ts';

interface Case {
  shape: [number, number, number, number];
  to: [number, number];
  input: number[];
  outputs: Record<LatentUpscaleMode, number[]>;
}

const ref = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'hires', 'latent-upscale.json'), 'utf8')) as { cases: Case[] };

for (const mode of LATENT_UPSCALE_MODES) {
  test(`latent upscale "${mode}" matches torch interpolate`, () => {
    for (const c of ref.cases) {
      const [batch, channels, h, w] = c.shape;
      const out = interpolateLatents(Float64Array.from(c.input), { batch, channels, h, w }, { h: c.to[0], w: c.to[1] }, mode);
      const expected = c.outputs[mode];
      assert.equal(out.length, expected.length);
      let worst = 0;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - expected[i]));
      assert.ok(worst < 1e-9, `${mode} ${c.shape.join('x')} -> ${c.to.join('x')}: off by ${worst}`);
    }
  });
}

test('antialias changes bicubic but not bilinear when upscaling, and both when shrinking (as in torch)', () => {
  const differ = (c: Case, a: LatentUpscaleMode, b: LatentUpscaleMode) => c.outputs[a].some((v, i) => Math.abs(v - c.outputs[b][i]) > 1e-9);
  const up = ref.cases.filter((c) => c.to[0] >= c.shape[2] && c.to[1] >= c.shape[3]);
  const down = ref.cases.filter((c) => c.to[0] < c.shape[2] || c.to[1] < c.shape[3]);
  assert.ok(up.length >= 5 && down.length >= 2);
  assert.ok(up.every((c) => !differ(c, 'bilinear', 'bilinear-antialias') && differ(c, 'bicubic', 'bicubic-antialias')));
  assert.ok(down.every((c) => differ(c, 'bilinear', 'bilinear-antialias') && differ(c, 'bicubic', 'bicubic-antialias')));
});

test("every A1111 latent upscaler has its mode, and labels are A1111's", () => {
  assert.deepEqual(
    HIRES_UPSCALERS.map((u) => [HIRES_UPSCALER_LABELS[u], latentModeOf(u) ?? null]),
    [
      ['Latent', 'bilinear'],
      ['Latent (antialiased)', 'bilinear-antialias'],
      ['Latent (bicubic)', 'bicubic'],
      ['Latent (bicubic antialiased)', 'bicubic-antialias'],
      ['Latent (nearest)', 'nearest'],
      ['Latent (nearest-exact)', 'nearest-exact'],
      ['Lanczos', null],
      ['None', null],
    ],
  );
});

test("each upscaler goes into PNG parameters as A1111's label and comes back from it, in any case", () => {
  for (const upscaler of HIRES_UPSCALERS) {
    const written = new Map(img2imgValues({ hires: { scale: 2, upscaler } } as GenerateRequest));
    assert.equal(written.get('Hires upscaler'), HIRES_UPSCALER_LABELS[upscaler]);
    for (const label of [HIRES_UPSCALER_LABELS[upscaler], HIRES_UPSCALER_LABELS[upscaler].toUpperCase()]) {
      const request: Parameters<typeof readImg2imgValues>[1] = {},
        notes: string[] = [];
      readImg2imgValues({ 'Hires upscale': '2', 'Hires upscaler': label }, request, notes);
      assert.equal(request.hires?.upscaler, upscaler, label);
      assert.deepEqual(notes, []);
    }
  }
});
