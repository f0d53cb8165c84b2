// What a careless user gives as a model: a pipe or a device instead of a checkpoint, one network file of a
// diffusers-ONNX folder instead of the folder, an import cache on a read-only disk. Each is refused at once, in one
// line that names the file or folder and what to give instead, and nothing is written into the import cache.
// The pipe and device cases run in child processes: before the fix they blocked (or read forever), which a test
// in this process could not time out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureImported, hashSource } from '../src-core/import/cache.ts';
import { SafetensorsFile } from '../src-core/import/safetensors.ts';
import { sourceKind } from '../src-core/import/source.ts';
import { ImportError } from '../src-core/import/weights.ts';
import { modelFolder } from './helpers/model-folders.ts';
import { mountTmpfs } from './helpers/scratch-mount.ts';

const ROOT = join(import.meta.dirname, '..');
const SD1 = join(import.meta.dirname, 'fixtures', 'import', 'sd1');

/** Runs `node --import tsx ARGS` from the repository root; it must end (with any code) within `seconds`. */
async function run(args: string[], env: Record<string, string>, seconds = 60) {
  const child = promisify(execFile)(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    timeout: seconds * 1000,
  });
  const result = await child.then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr, killed: false }),
    (e: { code: number | null; stdout: string; stderr: string; killed?: boolean }) => ({ ...e, killed: e.killed === true }),
  );
  assert.ok(!result.killed, `still running after ${seconds} s: node ${args.join(' ')}`);
  return result;
}

const generate = (env: Record<string, string>, ...args: string[]) =>
  run(['src-core/cli/generate.ts', '--prompt', 'x', '--steps', '2', ...args], env);

/** One line naming the problem, and no stack trace. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  assert.match(stderr, pattern);
  assert.doesNotMatch(stderr, /\n\s+at .*:\d+:\d+/);
}

test('a pipe or a device given as the model is refused at once, by the command line, the importer and the reader', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostile-pipe-'));
  try {
    const fifo = join(dir, 'model.safetensors');
    execFileSync('mkfifo', [fifo]);
    const cache = join(dir, 'cache');
    const env = { RESTART_STUDIO_IMPORTS: cache };
    const [byGenerate, byDevice, byImport, byReader] = await Promise.all([
      generate(env, '--model', fifo, '--out', join(dir, 'out')),
      generate(env, '--model', '/dev/zero', '--out', join(dir, 'out')),
      run(['src-core/cli/import.ts', fifo, '--out', join(dir, 'imported')], {}),
      run(
        [
          '--input-type=module',
          '-e',
          "import { SafetensorsFile } from './src-core/import/safetensors.ts';" +
            `try { SafetensorsFile.open(${JSON.stringify(fifo)}); } catch (e) { console.log(e.message); }`,
        ],
        {},
      ),
    ]);
    assert.equal(byGenerate.code, 1);
    assertOneLine(byGenerate.stderr, /error: .*model\.safetensors is a named pipe \(FIFO\), not a regular file/);
    assert.equal(byDevice.code, 1);
    assertOneLine(byDevice.stderr, /error: \/dev\/zero is a device, not a regular file/);
    assert.equal(byImport.code, 1);
    assertOneLine(byImport.stderr, /import failed: .*model\.safetensors is a named pipe \(FIFO\), not a regular file/);
    assert.match(byReader.stdout, /^model\.safetensors is a named pipe \(FIFO\), not a regular file; give a \.safetensors file$/m);
    // Nothing was imported, nor half-written.
    assert.deepEqual(existsSync(cache) ? readdirSync(cache) : [], []);
    assert.equal(existsSync(join(dir, 'imported')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--model some-folder/unet/model.onnx names the model folder to give instead', async () => {
  const folder = modelFolder('tiny-sd-v-fp16');
  const cache = mkdtempSync(join(tmpdir(), 'hostile-onnx-cache-'));
  try {
    const result = await generate(
      { RESTART_STUDIO_IMPORTS: cache },
      '--model',
      join(folder, 'unet', 'model.onnx'),
      '--out',
      join(cache, 'o'),
    );
    assert.equal(result.code, 1);
    assertOneLine(
      result.stderr,
      new RegExp(`error: model\\.onnx is part of the diffusers-ONNX model folder ${folder}, not a checkpoint: give that folder instead`),
    );
    assert.doesNotMatch(result.stderr, /safetensors header/);
    assert.deepEqual(readdirSync(cache), []);
    // Its external weights too; and a network file outside any model folder says what to give.
    assert.throws(() => sourceKind(join(folder, 'unet', 'model.onnx_data')), /model\.onnx_data is part of the diffusers-ONNX model folder/);
    const loose = join(cache, 'model.onnx');
    execFileSync('cp', [join(folder, 'unet', 'model.onnx'), loose]);
    assert.throws(
      () => sourceKind(loose),
      (e: Error) =>
        e instanceof ImportError && /model\.onnx is an ONNX network file, not a checkpoint: give the diffusers-ONNX/.test(e.message),
    );
  } finally {
    rmSync(join(folder, '..'), { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
});

test('a read-only import cache is named, with the setting that chose it; its complete imports are still used', async (t) => {
  const mount = mountTmpfs(64 * 1024 * 1024);
  if ('skipReason' in mount) return t.skip(mount.skipReason);
  try {
    const checkpoint = join(SD1, 'sd1-ldm-fp32.safetensors');
    const options = { cacheRoot: mount.dir, config: join(SD1, 'diffusers'), cudaGraph: false };
    // A diffusers folder imported while the disk was writable...
    const first = await ensureImported(join(SD1, 'diffusers'), { cacheRoot: mount.dir, cudaGraph: false });
    mount.readOnly();
    const before = readdirSync(mount.dir).sort();
    // ...is reused from the read-only disk, while a new import is refused naming the cache folder.
    const again = await ensureImported(join(SD1, 'diffusers'), { cacheRoot: mount.dir, cudaGraph: false });
    assert.equal(again.reused, true);
    assert.equal(again.dir, first.dir);
    await assert.rejects(ensureImported(checkpoint, options), {
      name: 'ImportCacheError',
      message: `cannot write in the import cache ${mount.dir} (a read-only file system); nothing was imported`,
    });
    const result = await generate(
      { RESTART_STUDIO_IMPORTS: mount.dir },
      '--model',
      checkpoint,
      '--model-config',
      join(SD1, 'diffusers'),
      '--out',
      join(tmpdir(), 'never-written'),
    );
    assert.equal(result.code, 1);
    assertOneLine(
      result.stderr,
      new RegExp(
        `error: cannot use the import cache ${mount.dir} \\(RESTART_STUDIO_IMPORTS, or XDG_CACHE_HOME\\): a read-only file system; ` +
          'set RESTART_STUDIO_IMPORTS to a writable folder',
      ),
    );
    assert.deepEqual(readdirSync(mount.dir).sort(), before);
  } finally {
    mount.unmount();
  }
});

test("a diffusers folder's broken or looping links are named as such, not as a bare ENOENT or ELOOP", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostile-links-'));
  try {
    const folder = join(dir, 'diffusers');
    cpSync(join(SD1, 'diffusers'), folder, { recursive: true });
    const memo = join(dir, 'memo.json');
    // Links without a model file's name are passed over, as any other file the hash does not cover.
    symlinkSync('elsewhere', join(folder, 'README'));
    symlinkSync('notes', join(folder, 'notes'));
    const hash = await hashSource(folder, { memo });
    assert.match(hash, /^[0-9a-f]{64}$/);
    const dangling = join(folder, 'unet', 'diffusion_pytorch_model.fp16.safetensors');
    symlinkSync('../../blobs/0123abcd', dangling);
    await assert.rejects(hashSource(folder, { memo }), {
      name: 'ImportError',
      message: `${dangling} is a link to ../../blobs/0123abcd, which does not exist (an unfinished download?)`,
    });
    rmSync(dangling);
    symlinkSync('loop.json', join(folder, 'vae', 'loop.json'));
    await assert.rejects(hashSource(folder, { memo }), {
      name: 'ImportError',
      message: `${join(folder, 'vae', 'loop.json')} is a link that leads back to itself (a link loop)`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dtype named after a property every object has ("toString", "__proto__") is an unknown dtype', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostile-dtype-'));
  try {
    for (const dtype of ['toString', '__proto__', 'constructor']) {
      const json = Buffer.from(JSON.stringify({ w: { dtype, shape: [0], data_offsets: [0, 0] } }));
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(json.length));
      const path = join(dir, `${dtype}.safetensors`);
      writeFileSync(path, Buffer.concat([length, json]));
      assert.throws(() => SafetensorsFile.open(path), {
        name: 'ImportError',
        message: `${dtype}.safetensors: tensor w has unknown dtype "${dtype}"`,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
