// The generate command's img2img and hires fix options (issue 23): parsed into the request, refused in
// words when wrong, and one real run of each through the command itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decode } from 'fast-png';
import { parseCli } from '../src-core/cli/generate.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';

const INIT = join(import.meta.dirname, 'fixtures', 'img2img', 'inputs', 'init-64.png');
const ROOT = join(import.meta.dirname, '..');

test('img2img and hires options become request fields; wrong ones are refused in words', () => {
  const parsed = parseCli([
    '--prompt',
    'x',
    '--seed',
    '1',
    '--init-image',
    INIT,
    '--strength',
    '0.4',
    '--resize-mode',
    'crop-and-resize',
    '--exact-steps',
  ]);
  assert.ok(parsed !== 'help');
  assert.deepEqual(
    {
      i: parsed.request.initImage,
      s: parsed.request.strength,
      r: parsed.request.resizeMode,
      e: parsed.request.exactSteps,
      p: parsed.initImagePath,
    },
    { i: 'file:init-64.png', s: 0.4, r: 'crop-and-resize', e: true, p: INIT },
  );
  const hires = parseCli([
    '--prompt',
    'x',
    '--seed',
    '1',
    '--hires-scale',
    '2',
    '--hires-steps',
    '5',
    '--hires-strength',
    '0.45',
    '--hires-upscaler',
    'latent-nearest-exact',
    '--hires-sampler',
    'heun',
  ]);
  assert.ok(hires !== 'help');
  assert.deepEqual(hires.request.hires, { scale: 2, steps: 5, strength: 0.45, upscaler: 'latent-nearest-exact', sampler: 'heun' });
  assert.equal(hires.request.initImage, undefined);
  assert.throws(() => parseCli(['--prompt', 'x', '--hires-steps', '5']), /--hires-steps needs --hires-scale/);
  assert.throws(
    () => parseCli(['--prompt', 'x', '--hires-scale', '2', '--hires-upscaler', 'esrgan']),
    /--hires-upscaler must be one of latent, latent-antialiased, latent-bicubic, .*, latent-nearest-exact, lanczos, none/,
  );
  assert.throws(() => parseCli(['--prompt', 'x', '--strength', 'lots']), /--strength needs a number/);
  assert.throws(
    () => parseCli(['--prompt', 'x', '--resize-mode', 'stretch']),
    /--resize-mode must be one of just-resize, crop-and-resize, resize-and-fill/,
  );
  // Odd file names are only labels in the request.
  const odd = parseCli(['--prompt', 'x', '--seed', '1', '--init-image', '/tmp/my photo (1).webp']);
  assert.ok(odd !== 'help');
  assert.equal(odd.request.initImage, 'file:my_photo__1_.webp');
});

test('npm run generate with --init-image and with --hires-scale writes the images, with their parameters', async () => {
  const out = mkdtempSync(join(tmpdir(), 'img2img-cli-'));
  const run = (args: string[]) =>
    promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'src-core/cli/generate.ts',
        '--prompt',
        'a red circle on a blue background',
        '--seed',
        '4',
        '--steps',
        '6',
        '--out',
        out,
        ...args,
      ],
      { cwd: ROOT },
    );
  try {
    const img2img = await run(['--init-image', INIT, '--strength', '0.5', '--noise', 'torch-cpu']);
    assert.match(img2img.stdout, /00001-4\.png {2}seed 4 {2}64x64\n1 image\(s\), 4 model evaluations each/);
    const hires = await run(['--hires-scale', '1.5', '--hires-steps', '3', '--hires-upscaler', 'lanczos']);
    assert.match(hires.stdout, /00002-4\.png {2}seed 4 {2}96x96\n1 image\(s\), 9 model evaluations each/);
    const files = readdirSync(out).sort();
    assert.deepEqual(files, ['00001-4.png', '00002-4.png']);
    assert.match(readTextChunks(readFileSync(join(out, files[0]))).parameters, /Denoising strength: 0\.5/);
    const second = readFileSync(join(out, files[1]));
    assert.match(
      readTextChunks(second).parameters,
      /Size: 64x64, .*Denoising strength: 0\.7, Hires upscale: 1\.5, Hires steps: 3, Hires upscaler: Lanczos/,
    );
    assert.equal(decode(second).width, 96);
    await assert.rejects(run(['--init-image', join(ROOT, 'package.json')]), (e: { stderr: string }) =>
      /the init image cannot be used: this file is not an image/.test(e.stderr),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
