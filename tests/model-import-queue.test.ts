// Imports queue through the real local server and import worker: a model.add while another import runs waits
// (its progress says so, with its place), can be cancelled while waiting, and starts when the one before it ends,
// whether that one was cancelled, failed or finished; only one import runs at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImportProgressEvent } from '../src-core/contract/models.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { FIXTURES } from './helpers/model-folders.ts';
import { withStudio } from './helpers/studio.ts';
import { cacheEntries, mediumCheckpoint } from './helpers/import-sources.ts';

const SD1 = join(FIXTURES, 'import', 'sd1');
const SD1_CONFIG = join(SD1, 'diffusers');
/** Passes model.add's checks; the worker then refuses the VAE (a LoRA file), so this import fails. */
const BAD_VAE = join(FIXTURES, 'lora', 'loras', 'sd1-kohya.safetensors');

test('a second import waits for the first, can be cancelled while waiting, and runs after a cancel, a failure or a success', async () => {
  const medium = mediumCheckpoint(join(mkdtempSync(join(tmpdir(), 'queue-medium-')), 'medium.safetensors'));
  await withStudio({ model: DEFAULT_MODEL_DIR }, async (studio, client) => {
    const first = await client.call('model.add', { path: medium });
    assert.ok(first.importId);
    assert.equal(first.ahead, undefined, 'nothing before it: it starts at once');
    const failing = await client.call('model.add', { path: join(SD1, 'sd1-ldm-fp32.safetensors'), config: SD1_CONFIG, vae: BAD_VAE });
    const dropped = await client.call('model.add', { path: join(SD1, 'sd1-ldm-fp32.safetensors'), config: SD1_CONFIG, label: 'Dropped' });
    const good = await client.call('model.add', { path: join(SD1, 'sd1-ldm-fp32.safetensors'), config: SD1_CONFIG, label: 'Tiny fp32' });
    const last = await client.call('model.add', { path: join(SD1, 'sd1-ldm-fp16.safetensors'), config: SD1_CONFIG, label: 'Tiny fp16' });
    assert.deepEqual([failing.ahead, dropped.ahead, good.ahead, last.ahead], [1, 2, 3, 4]);
    const ids = {
      first: first.importId!,
      failing: failing.importId!,
      dropped: dropped.importId!,
      good: good.importId!,
      last: last.importId!,
    };
    assert.equal((await client.call('model.importStatus', {}))?.importId, ids.first);
    const queue = await client.call('model.importQueue', {});
    assert.deepEqual(
      queue.map((q) => [q.importId, q.stage, q.ahead, q.fraction, q.label]),
      [
        [ids.failing, 'queued', 1, 0, 'sd1-ldm-fp32'],
        [ids.dropped, 'queued', 2, 0, 'Dropped'],
        [ids.good, 'queued', 3, 0, 'Tiny fp32'],
        [ids.last, 'queued', 4, 0, 'Tiny fp16'],
      ],
    );

    // Cancelled while waiting: it leaves the queue at once, and those behind it move up.
    const droppedFailed = client.waitFor('import.failed', (f) => f.importId === ids.dropped, 10_000);
    assert.deepEqual(await client.call('model.cancelImport', { importId: ids.dropped }), { cancelled: true });
    assert.deepEqual([(await droppedFailed).cancelled, (await droppedFailed).error], [true, 'import cancelled; nothing was kept']);
    assert.deepEqual(
      (await client.call('model.importQueue', {})).map((q) => [q.importId, q.ahead]),
      [
        [ids.failing, 1],
        [ids.good, 2],
        [ids.last, 3],
      ],
    );
    assert.deepEqual(await client.call('model.cancelImport', { importId: ids.dropped }), { cancelled: false });

    const ended = (id: string) =>
      Promise.race([
        client.waitFor('import.done', (d) => d.importId === id, 180_000),
        client.waitFor('import.failed', (f) => f.importId === id, 180_000),
      ]);
    const ends = { first: ended(ids.first), failing: ended(ids.failing), good: ended(ids.good), last: ended(ids.last) };
    assert.deepEqual(await client.call('model.cancelImport', { importId: ids.first }), { cancelled: true });
    assert.deepEqual(await ends.first, {
      importId: ids.first,
      source: medium,
      error: 'import cancelled; nothing was kept',
      cancelled: true,
    });
    const failed = (await ends.failing) as { error: string; cancelled: boolean };
    assert.match(failed.error, /sd1-kohya\.safetensors is not a VAE/);
    assert.equal(failed.cancelled, false);
    const done = (await ends.good) as { model: { name: string; dir: string } };
    assert.equal(done.model.name, 'Tiny fp32');
    const lastDone = (await ends.last) as { model: { name: string; dir: string } };
    assert.equal(lastDone.model.name, 'Tiny fp16');

    // One at a time, in order: each import's own progress starts only after the one before it ended.
    const events = client.events.map((e) => ({ event: e.event, data: e.data as ImportProgressEvent }));
    const endAt = (id: string) => events.findIndex((e) => e.event !== 'import.progress' && e.data.importId === id);
    const startAt = (id: string) =>
      events.findIndex((e) => e.event === 'import.progress' && e.data.importId === id && e.data.stage !== 'queued');
    assert.ok(startAt(ids.failing) > endAt(ids.first), 'the second started after the first was cancelled');
    assert.ok(startAt(ids.good) > endAt(ids.failing), 'the third started after the second failed');
    assert.ok(startAt(ids.last) > endAt(ids.good), 'the last started after the third finished');
    assert.equal(startAt(ids.dropped), -1, 'the one cancelled while waiting never started');
    // While it waited, its progress said so with its place, which only moved up.
    const places = events.filter((e) => e.data.importId === ids.last && e.data.stage === 'queued').map((e) => e.data.ahead);
    assert.deepEqual(places, [4, 3, 2, 1]);

    assert.equal(await client.call('model.importStatus', {}), null);
    assert.deepEqual(await client.call('model.importQueue', {}), []);
    const list = (await client.call('model.list', {})).map((m) => m.name);
    assert.ok(list.includes('Tiny fp32') && list.includes('Tiny fp16') && !list.includes('Dropped'), list.join(', '));
    // The two models and no partial folders.
    const { cacheDir } = studio.service.models.library;
    assert.deepEqual(cacheEntries(cacheDir).sort(), [done.model.dir, lastDone.model.dir].map((d) => d.split('/').pop()).sort());
  });
});

test('the queue holds 32 waiting imports; one more is refused in words, and cancelling makes room', async () => {
  const medium = mediumCheckpoint(join(mkdtempSync(join(tmpdir(), 'queue-cap-')), 'medium.safetensors'));
  await withStudio({ model: DEFAULT_MODEL_DIR }, async (_studio, client) => {
    const running = await client.call('model.add', { path: medium });
    const add = () => client.call('model.add', { path: join(SD1, 'sd1-ldm-fp32.safetensors'), config: SD1_CONFIG });
    const waiting = [];
    for (let i = 0; i < 32; i++) waiting.push(await add());
    assert.equal(waiting.at(-1)!.ahead, 32);
    await assert.rejects(add(), /32 imports are already waiting: add this one when some of them have finished/);
    assert.deepEqual(await client.call('model.cancelImport', { importId: waiting[0]!.importId! }), { cancelled: true });
    assert.equal((await add()).ahead, 32);
    for (const q of await client.call('model.importQueue', {})) await client.call('model.cancelImport', { importId: q.importId });
    await client.call('model.cancelImport', { importId: running.importId! });
  });
});
