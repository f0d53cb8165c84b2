// The one check for paths that must be regular files, and the readers that use it: each refuses a folder, a named
// pipe and a device in the same words, and keeps its own error class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotRegularFileError, openRegularFile, statRegularFile } from './regular-file.ts';
import { SafetensorsFile } from './import/safetensors.ts';
import { ImportError } from './import/weights.ts';
import { sourceKind } from './import/source.ts';
import { checkTokenizer } from './import/write-folder.ts';
import { hashSource } from './import/cache.ts';
import { readJsonObjectFile } from './model/configs.ts';
import { loadTokenizer } from './model/text-encoders.ts';
import { ModelError } from './model/errors.ts';
import { readInitImage } from './cli/img2img-options.ts';

const dir = mkdtempSync(join(tmpdir(), 'regular-file-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'file.bin');
writeFileSync(file, 'abc');
const folder = join(dir, 'folder');
mkdirSync(folder);
const fifo = join(dir, 'pipe');
execFileSync('mkfifo', [fifo]);
const device = '/dev/null';

test('a regular file opens and stats; a folder, a named pipe and a device are refused, saying which', () => {
  const { fd, stat } = openRegularFile(file);
  try {
    assert.equal(stat.size, 3);
    const bytes = Buffer.alloc(3);
    assert.equal(readSync(fd, bytes, 0, 3, 0), 3);
    assert.equal(bytes.toString(), 'abc');
  } finally {
    closeSync(fd);
  }
  assert.equal(statRegularFile(file).size, 3);
  const kinds: Array<[string, string]> = [
    [folder, 'a folder'],
    [fifo, 'a named pipe (FIFO)'],
    [device, 'a device'],
  ];
  for (const [path, kind] of kinds) {
    for (const check of [openRegularFile, statRegularFile]) {
      assert.throws(
        () => check(path),
        (error: Error) => {
          assert.ok(error instanceof NotRegularFileError, `${check.name}(${path}): ${error}`);
          assert.equal(error.message, `${path} is ${kind}, not a regular file`);
          assert.equal(error.kind, kind);
          assert.equal(error.isFolder, path === folder);
          return true;
        },
      );
    }
  }
  // A folder where one is allowed; the message then says so. The label and the caller's own class.
  assert.ok(statRegularFile(folder, { folderOk: true }).isDirectory());
  assert.throws(() => statRegularFile(fifo, { folderOk: true }), {
    message: `${fifo} is a named pipe (FIFO), not a regular file or folder`,
  });
  assert.throws(() => openRegularFile(fifo, { label: 'the pipe', as: (e) => new ImportError(`${e.message}; give a file`) }), {
    name: 'ImportError',
    message: 'the pipe is a named pipe (FIFO), not a regular file; give a file',
  });
  // fs errors are the caller's to word.
  assert.throws(() => openRegularFile(join(dir, 'absent')), { code: 'ENOENT' });
  assert.throws(() => statRegularFile(join(dir, 'absent')), { code: 'ENOENT' });
});

/** The message (and class) of what `read` throws for `path`. */
async function refusal(read: (path: string) => unknown, path: string): Promise<Error> {
  try {
    await read(path);
  } catch (error) {
    return error as Error;
  }
  assert.fail(`${path} was read`);
}

test('every reader refuses a folder, a named pipe and a device in the same words, with its own error class', async () => {
  // A tokenizer folder whose vocab.json is the thing under test.
  const tokenizerAt = (path: string, name: string) => {
    const root = mkdtempSync(join(dir, `${name}-`));
    mkdirSync(join(root, 'tokenizer'));
    if (path === fifo) execFileSync('mkfifo', [join(root, 'tokenizer', 'vocab.json')]);
    else if (path === folder) mkdirSync(join(root, 'tokenizer', 'vocab.json'));
    else execFileSync('ln', ['-s', path, join(root, 'tokenizer', 'vocab.json')]);
    for (const other of ['merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'])
      writeFileSync(join(root, 'tokenizer', other), '{}');
    return root;
  };
  const readers: Array<[string, (path: string) => unknown, string, (path: string) => string]> = [
    ['SafetensorsFile.open', (p) => SafetensorsFile.open(p), 'ImportError', (p) => `${p.split('/').pop()} is`],
    ['sourceKind', sourceKind, 'ImportError', (p) => `${p} is`],
    ['hashSource', hashSource, 'ImportError', (p) => `${p} is`],
    [
      'readJsonObjectFile',
      (p) => readJsonObjectFile(p, (_, cause) => new ModelError('unet', `cannot be read: ${cause?.message}`)),
      'ModelError',
      () => 'unet: cannot be read: it is',
    ],
    ['readInitImage', readInitImage, 'NotRegularFileError', (p) => `--init-image ${p} is`],
    ['checkTokenizer', (p) => checkTokenizer(join(tokenizerAt(p, 'import'), 'tokenizer')), 'ImportError', () => 'vocab.json is'],
    ['loadTokenizer', (p) => loadTokenizer(tokenizerAt(p, 'load'), 'tokenizer'), 'ModelError', () => 'tokenizer: tokenizer/vocab.json is'],
  ];
  for (const [reader, read, errorClass, start] of readers) {
    for (const [path, kind] of [
      [fifo, 'a named pipe (FIFO)'],
      [device, 'a device'],
      [folder, 'a folder'],
    ]) {
      // Folders are model folders to these two.
      if ((reader === 'hashSource' || reader === 'sourceKind') && path === folder) continue;
      const error = await refusal(read, path);
      assert.equal(error.name, errorClass, `${reader}(${path}): ${error.message}`);
      assert.ok(error.message.includes(`${start(path)} ${kind}, not a regular file`), `${reader}(${path}): ${error.message}`);
    }
  }
});
