// Runs of `npm run generate` that save into one folder at the same time must keep every image they report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { savePng } from './save.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const content = (tag: string) => Buffer.from(`not a real png, but its own bytes: ${tag}`);

test('concurrent saves into one folder each keep their own file under the name they report', async () => {
  const out = mkdtempSync(join(tmpdir(), 'save-concurrent-'));
  try {
    const tags = Array.from({ length: 12 }, (_, k) => `image ${k}`);
    const paths = await Promise.all(tags.map((tag) => savePng(out, 5, content(tag))));
    assert.equal(new Set(paths).size, tags.length, 'every save gets its own name');
    paths.forEach((path, k) => assert.deepEqual(readFileSync(path), content(tags[k]), path));
    assert.equal(readdirSync(out).length, tags.length, 'no temporary file is left');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('several processes saving into one folder lose nothing', async () => {
  const out = mkdtempSync(join(tmpdir(), 'save-processes-'));
  const script = `
    import { savePng } from './src-core/pipeline/save.ts';
    const [dir, tag, start] = process.argv.slice(-3);
    await new Promise((go) => setTimeout(go, Number(start) - Date.now()));
    for (let k = 0; k < 10; k++) {
      console.log(await savePng(dir, 5, Buffer.from('not a real png, but its own bytes: ' + tag + ' ' + k)));
    }`;
  const start = String(Date.now() + 3000); // all start saving at once, after tsx has loaded
  try {
    const runs = ['a', 'b', 'c'].map((tag) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, out, tag, start], { cwd: ROOT }),
    );
    const reported = (await Promise.all(runs)).map((r, p) => ({ tag: ['a', 'b', 'c'][p], paths: r.stdout.trim().split('\n') }));
    for (const { tag, paths } of reported) {
      paths.forEach((path, k) => assert.deepEqual(readFileSync(path), content(`${tag} ${k}`), path));
    }
    assert.equal(readdirSync(out).length, 30, 'one file per reported image, no temporary file left');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
