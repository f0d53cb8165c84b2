// Hostile PNGs (issue 14, item 2): decompression bombs, texts that made the old regex parser
// quadratic, broken framing and chunk floods must neither freeze the server nor delay the gallery's
// start. Work that could hang runs in a child process with a deadline, so a hang fails the test
// instead of stopping it (a synchronous loop would also stop node:test's own timers).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostilePngs, pngWithChunks, tEXt } from './helpers/hostile-pngs.ts';
import { TestClient } from './helpers/studio.ts';
import { MAX_PENDING_READS, readPngOffThread } from '../electron/png-read.ts';
import { pngToRequest } from '../src-core/pipeline/png-import.ts';

const PROBE = fileURLToPath(new URL('./helpers/png-probe.ts', import.meta.url));
const SERVER_MAIN = fileURLToPath(new URL('../electron/server/main.ts', import.meta.url));
const fixture = (name: string) => readFileSync(new URL(`./fixtures/png/${name}`, import.meta.url));

function probe(args: string[], timeoutMs: number): { ok: boolean; stdout: string; why: string } {
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', PROBE, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  const why = run.signal
    ? `killed after ${Date.now() - started} ms (deadline ${timeoutMs} ms)`
    : `exit ${run.status}: ${run.stderr.slice(-2000)}`;
  return { ok: run.status === 0, stdout: run.stdout, why };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

test('parameters texts that made the old regex quadratic parse in linear time', { timeout: 120_000 }, () => {
  // 12 texts of 900k characters. The old PAIR regex needed 27.8 s for 80k characters of "a a a"
  // (quadratic: about an hour for each of these); linear parsing takes well under a second.
  const run = probe(['parse'], 60_000);
  assert.ok(run.ok, run.why);
  assert.deepEqual(JSON.parse(run.stdout), { parsed: 12 });
});

test("png.read's worker gives the answers of the in-process reader, errors included", { timeout: 120_000 }, async () => {
  const fixtures = ['a1111-basic.png', 'a1111-unicode-itxt.png', 'fooocus.png'].map((name) => ({ name, bytes: fixture(name) }));
  for (const { name, bytes } of [...fixtures, ...hostilePngs()]) {
    const inProcess = (() => {
      try {
        return pngToRequest(bytes);
      } catch (error) {
        return (error as Error).message;
      }
    })();
    const inWorker = await readPngOffThread(bytes).catch((error: Error) => error.message);
    assert.deepEqual(inWorker, inProcess, name);
  }
});

test('a read that runs past its deadline is abandoned with its worker; the next read gets a new one', { timeout: 120_000 }, async () => {
  const slow = hostilePngs().find((p) => p.name === 'quadratic-parameters-escaped-quotes')!; // a few hundred ms of capped work
  await assert.rejects(readPngOffThread(slow.bytes, 1), /^Error: reading this PNG took longer than 0.001 s; it was abandoned$/);
  assert.equal((await readPngOffThread(fixture('a1111-basic.png'))).request.steps, 28);
});

test('png.read queues at most a few files; more at once are refused with a clear message', { timeout: 120_000 }, async () => {
  const file = fixture('a1111-basic.png');
  const reads = Array.from({ length: MAX_PENDING_READS + 3 }, () =>
    readPngOffThread(file).then(
      () => 'read',
      (error: Error) => error.message,
    ),
  );
  const answers = await Promise.all(reads);
  assert.deepEqual(answers, [
    ...Array(MAX_PENDING_READS).fill('read'),
    ...Array(3).fill(`${MAX_PENDING_READS} PNG files are being read already; try again when they are done`),
  ]);
  assert.equal((await readPngOffThread(file)).request.steps, 28, 'accepted again once the queue is empty');
});

const PARAMS = 'Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 8x8';

test('a gallery folder holding hostile PNGs loads promptly and still lists the good images', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostile-gallery-'));
  mkdirSync(join(dir, 'images'));
  const good = (seed: number) => pngWithChunks([tEXt('parameters', `a cat\n${PARAMS.replace('Seed: 1', `Seed: ${seed}`)}`)]);
  writeFileSync(join(dir, 'images', '00001-11.png'), good(11));
  let n = 2;
  for (const hostile of hostilePngs()) writeFileSync(join(dir, 'images', `${String(n++).padStart(5, '0')}-${n}.png`), hostile.bytes);
  writeFileSync(join(dir, 'images', `${String(n).padStart(5, '0')}-99.png`), good(99));
  // The old reader inflated every bomb whole and ran the quadratic parser over it: hours.
  const run = probe(['gallery', dir], 60_000);
  assert.ok(run.ok, run.why);
  const listed: string[] = JSON.parse(run.stdout);
  assert.ok(
    listed.includes('00001-11.png') && listed.includes(`${String(n).padStart(5, '0')}-99.png`),
    `good images listed: ${listed.join(', ')}`,
  );
});

async function startServerProcess(): Promise<{ url: string; stop: () => void }> {
  const data = mkdtempSync(join(tmpdir(), 'hostile-server-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', SERVER_MAIN, '--port', '0', '--data', data, '--model', join(data, 'no-model'), '--provider', 'cpu'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  const url = await within(
    new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: string) => {
        out += d;
        const m = /running at (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
    }),
    60_000,
    'server start',
  );
  return {
    url,
    stop: () => {
      child.kill('SIGKILL');
    },
  };
}

describe('png.read on a server in its own process', () => {
  let server: { url: string; stop: () => void };
  let client: TestClient;
  before(async () => {
    server = await startServerProcess();
    client = await TestClient.connect(new URL('/ws', server.url.replace(/^http/, 'ws')).toString());
  });
  after(() => {
    client?.close();
    server?.stop();
  });

  test(
    'png.read cuts prompts longer than the limit and says so; an over-cap text chunk is ignored with a note',
    { timeout: 120_000 },
    async () => {
      const long = hostilePngs().find((p) => p.name === 'long-prompt')!;
      const result = await within(client.call('png.read', { base64: long.bytes.toString('base64') }), 60_000, 'png.read');
      assert.equal(result.request.prompt, 'p'.repeat(20_000));
      assert.equal(result.request.negativePrompt, 'n'.repeat(20_000));
      assert.equal(result.request.steps, 20);
      assert.ok(
        result.notes.some((n) => /^the prompt .*25,000 characters.*first 20,000/.test(n)),
        result.notes.join(' | '),
      );
      assert.ok(
        result.notes.some((n) => /^the negative prompt .*30,000 characters.*first 20,000/.test(n)),
        result.notes.join(' | '),
      );
      const bomb = hostilePngs().find((p) => p.name === 'ztxt-bomb')!;
      const bombResult = await within(client.call('png.read', { base64: bomb.bytes.toString('base64') }), 60_000, 'png.read of the bomb');
      assert.ok(
        bombResult.notes.some((n) => /inflates past 1 MiB; it was ignored/.test(n)),
        bombResult.notes.join(' | '),
      );
    },
  );

  test('png.read of each hostile PNG answers promptly and the server answers other calls meanwhile', { timeout: 300_000 }, async () => {
    for (const png of hostilePngs()) {
      const reading = client.call('png.read', { base64: png.bytes.toString('base64') }).then(
        (r) => ({ r }),
        (e: Error) => ({ e }),
      );
      // The old reader blocked the event loop for minutes to hours on most of these; 15 s is generous.
      await within(client.call('app.info', {}), 15_000, `app.info while reading ${png.name}`);
      const answer = await within(reading, 30_000, `png.read of ${png.name}`);
      if ('r' in answer) {
        const { prompt = '', negativePrompt = '' } = answer.r.request;
        assert.ok(prompt.length <= 20_000 && negativePrompt.length <= 20_000, `${png.name}: prompts within the contract's limit`);
      }
    }
  });
});
