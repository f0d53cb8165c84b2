// Model folders damaged in ways a download, a copy or a careless hand leaves them: a config or tokenizer file that is
// a folder, a pipe or a link to /dev/zero, an external weights file cut short. Loading (or importing) such a folder
// fails at once with one error naming the file; before, a pipe blocked the load, /dev/zero was read until memory ran
// out, and a folder gave a bare EISDIR. The pipe and device cases run in a child process, which the test can time out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { loadModel } from '../src-core/model/model.ts';
import { ModelError } from '../src-core/model/errors.ts';
import { modelFolder } from './helpers/model-folders.ts';

const ROOT = join(import.meta.dirname, '..');
const SD1_DIFFUSERS = join(import.meta.dirname, 'fixtures', 'import', 'sd1', 'diffusers');

/**
 * Loads each model folder (and imports each diffusers folder) in a child process, which must end within `seconds`;
 * the error message of each, in order ('loaded' / 'imported' where one succeeds).
 */
async function failuresInChild(loads: string[], imports: Array<{ source: string; out: string }>, seconds = 90): Promise<string[]> {
  const script = `
    import { loadModel } from './src-core/model/model.ts';
    import { importModel } from './src-core/import/importer.ts';
    const [loads, imports] = JSON.parse(process.argv[1]);
    const messages = [];
    for (const dir of loads) {
      try { await (await loadModel(dir)).dispose(); messages.push('loaded'); } catch (e) { messages.push(e.name + ': ' + e.message); }
    }
    for (const { source, out } of imports) {
      try { await importModel(source, { out }); messages.push('imported'); } catch (e) { messages.push(e.name + ': ' + e.message); }
    }
    console.log(JSON.stringify(messages));`;
  const child = promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify([loads, imports])],
    { cwd: ROOT, timeout: seconds * 1000, maxBuffer: 1 << 20 },
  );
  const result = await child.catch((e: { killed?: boolean; stderr?: string }) => {
    assert.fail(e.killed ? `still running after ${seconds} s` : `the child failed: ${e.stderr}`);
  });
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as string[];
}

/** Replaces `path` by a named pipe. */
function pipeAt(path: string): void {
  rmSync(path, { recursive: true, force: true });
  execFileSync('mkfifo', [path]);
}

test('config and tokenizer files that are folders, pipes or links to /dev/zero are refused by name, loading and importing', async () => {
  const folders: string[] = [];
  const damaged = (edit: (dir: string) => void): string => {
    const dir = modelFolder('tiny-sd-eps-int64');
    folders.push(dirname(dir));
    edit(dir);
    return dir;
  };
  const work = mkdtempSync(join(tmpdir(), 'hostile-folders-'));
  const source = (edit: (dir: string) => void): { source: string; out: string } => {
    const dir = join(mkdtempSync(join(work, 'source-')), 'diffusers');
    cpSync(SD1_DIFFUSERS, dir, { recursive: true });
    edit(dir);
    return { source: dir, out: join(dirname(dir), 'imported') };
  };
  try {
    const loads = [
      damaged((dir) => pipeAt(join(dir, 'unet', 'config.json'))),
      damaged((dir) => {
        rmSync(join(dir, 'unet', 'config.json'));
        mkdirSync(join(dir, 'unet', 'config.json'));
      }),
      damaged((dir) => {
        rmSync(join(dir, 'unet', 'config.json'));
        symlinkSync('/dev/zero', join(dir, 'unet', 'config.json'));
      }),
      damaged((dir) => pipeAt(join(dir, 'tokenizer', 'vocab.json'))),
      damaged((dir) => pipeAt(join(dir, 'tokenizer', 'merges.txt'))),
    ];
    const imports = [
      source((dir) => pipeAt(join(dir, 'unet', 'config.json'))),
      source((dir) => pipeAt(join(dir, 'tokenizer', 'merges.txt'))),
    ];
    const messages = await failuresInChild(loads, imports);
    assert.deepEqual(messages.slice(0, 5), [
      'ModelError: unet: unet/config.json cannot be read: it is a named pipe (FIFO), not a regular file',
      'ModelError: unet: unet/config.json cannot be read: it is a folder, not a regular file',
      'ModelError: unet: unet/config.json cannot be read: it is a device, not a regular file',
      'ModelError: tokenizer: tokenizer/vocab.json is a named pipe (FIFO), not a regular file',
      'ModelError: tokenizer: tokenizer/merges.txt is a named pipe (FIFO), not a regular file',
    ]);
    assert.equal(
      messages[5],
      `ImportError: cannot read ${join(imports[0]!.source, 'unet', 'config.json')}: it is a named pipe (FIFO), not a regular file`,
    );
    assert.equal(
      messages[6],
      `ImportError: ${join(imports[1]!.source, 'tokenizer', 'merges.txt')} is a named pipe (FIFO), not a regular file`,
    );
    // Neither import left anything beside its source.
    for (const { source: dir } of imports) assert.deepEqual(readdirSync(dirname(dir)), ['diffusers']);
  } finally {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
});

test('an external weights file cut short is named as such, with the tensor that does not fit', async () => {
  const dir = modelFolder('tiny-sd-v-fp16');
  try {
    const data = join(dir, 'unet', 'model.onnx_data');
    truncateSync(data, Math.floor(statSync(data).size / 2));
    await assert.rejects(loadModel(dir), (error: Error) => {
      assert.ok(error instanceof ModelError, `${error.name}: ${error.message}`);
      assert.match(
        error.message,
        /^unet: unet\/model\.onnx refers to external weights that cannot be read whole \(truncated weights\.pb \/ model\.onnx_data\?\): External initializer: \S+ offset: \d+ size to read: \d+ given file_length: \d+ are out of bounds/,
      );
      assert.doesNotMatch(error.message, /onnxruntime_src|initializer\.cc/);
      return true;
    });
    assert.ok(existsSync(data));
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});
