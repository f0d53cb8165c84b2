// Comparison grids and guidance sweeps as queued jobs through the local server, results in the gallery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelFolder } from './helpers/model-folders.ts';
import { withStudio } from './helpers/studio.ts';

test('a sampler x steps grid: every cell with its NFE and time, CSV, images in the gallery', async () => {
  await withStudio(modelFolder('tiny-sd-eps-int64'), async (studio, client) => {
    const done = client.waitFor('grid.done');
    await client.call('job.grid', {
      base: { prompt: 'a red circle', seed: 9, steps: 4, cfgScale: 5 },
      x: { kind: 'sampler', values: ['euler', 'heun', 'restart'] },
      y: { kind: 'steps', values: [4, 21] },
    });
    const grid = await done;
    assert.equal(grid.cells.length, 6);
    const nfe = Object.fromEntries(grid.cells.map((c) => [`${c.xLabel}/${c.yLabel}`, c.evaluations]));
    assert.deepEqual(nfe, {
      'sampler euler/steps 4': 4,
      'sampler heun/steps 4': 7,
      'sampler restart/steps 4': 7,
      'sampler euler/steps 21': 21,
      'sampler heun/steps 21': 41,
      'sampler restart/steps 21': 41,
    });
    assert.ok(grid.cells.every((c) => c.entry.seed === 9 && c.seconds > 0));
    const settings = [
      'clip_skip,variation_seed,variation_seed_strength,seed_resize_from_w,seed_resize_from_h',
      'eta,sigma_noise,schedule_min_sigma,schedule_max_sigma,schedule_rho,rng',
    ].join(',');
    // The base sets none of the cell settings (Clip skip, variation, seed resize, eta, sigma noise, schedule, RNG): empty.
    assert.match(grid.csv, new RegExp(`^x,y,x_label,y_label,sampler,steps,cfg_scale,seed,nfe,seconds,${settings}\n`));
    assert.match(grid.csv.split('\n')[1], /^0,0,sampler euler,steps 4,euler,4,5,9,4,[\d.]+,{11}$/);
    assert.equal((await client.call('gallery.list', {})).length, 6);
    await assert.rejects(
      client.call('job.grid', { base: { prompt: 'x', seed: 1 }, x: { kind: 'steps', values: [2] }, y: { kind: 'steps', values: [3] } }),
      /the two axes must differ/,
    );
    await assert.rejects(
      client.call('job.grid', {
        base: { prompt: 'x', seed: 1, sampler: 'restart' },
        x: { kind: 'restart', values: [{ segments: [[3, 1, 0.0001, 0.5]] }] },
      }),
      /snaps to sigma 0/,
    );
  });
});

test('a guidance sweep: diversity per CFG scale and sampler in a stated space', async () => {
  await withStudio(modelFolder('tiny-sd-eps-int64'), async (studio, client) => {
    const done = client.waitFor('sweep.done');
    await client.call('job.sweep', { prompt: 'a red circle', samplers: ['euler', 'dpmpp_2m'], cfgScales: [1, 4, 8], seeds: 3, steps: 3 });
    const sweep = await done;
    assert.equal(sweep.points.length, 6);
    assert.match(sweep.featureSpace, /RGB pixels averaged to 16x16/, 'the fixture has no evaluator');
    for (const p of sweep.points) {
      assert.ok(Number.isFinite(p.diversity) && p.diversity > 0, `${p.sampler} ${p.cfgScale}`);
      assert.equal(p.accuracy, null);
      assert.equal(p.entries.length, 3);
      assert.deepEqual(
        p.entries.map((e) => e.seed),
        [0, 1, 2],
      );
    }
    assert.equal((await client.call('gallery.list', {})).length, 18);
  });
});
