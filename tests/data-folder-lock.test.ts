// One app instance per data folder: two on one folder picked the same gallery ids and overwrote each
// other's images. A second instance is refused in one line naming the folder and the first one's pid
// (in-process, and `npm run serve`'s own output); the folder is free again once the first stops, and a
// lock left by a process that no longer runs is taken over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { LOCK_NAME } from '../electron/data-lock.ts';
import { DataFolderError, StudioService } from '../electron/service.ts';
import { startStudio } from './helpers/studio.ts';

const SERVER_MAIN = join(import.meta.dirname, '..', 'electron', 'server', 'main.ts');

/** Starting another studio on `dataDir` must fail; one that starts anyway is stopped (the test then fails). */
async function refusedStart(dataDir: string): Promise<Error> {
  let studio;
  try {
    studio = await startStudio({ model: DEFAULT_MODEL_DIR, dataDir });
  } catch (error) {
    return error as Error;
  }
  await studio.stop();
  throw new Error('a second studio started on the same data folder');
}

test('a second instance on the same data folder is refused with the folder and the pid; it starts once the first stops', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'locked-data-'));
  const first = await startStudio({ model: DEFAULT_MODEL_DIR, dataDir });
  const inUse = new RegExp(`the data folder ${dataDir} is in use by another Restart Studio \\(pid ${process.pid}\\)`);
  try {
    const error = await refusedStart(dataDir);
    assert.ok(error instanceof DataFolderError, error.stack);
    assert.match(error.message, inUse);
    // `npm run serve` on the same folder: one line, exit code 1, and it never starts its engine.
    const serve = spawnSync(process.execPath, ['--import', 'tsx', SERVER_MAIN, '--port', '0', '--data', dataDir, '--provider', 'cpu'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(serve.status, 1, serve.stderr);
    assert.equal(serve.stderr.trim().split('\n').length, 1, serve.stderr);
    assert.match(serve.stderr, /^Restart Studio cannot start: the data folder .* is in use by another Restart Studio \(pid \d+\)/);
    assert.doesNotMatch(serve.stdout, /is running at/);
  } finally {
    await first.stop();
  }
  assert.ok(!existsSync(join(dataDir, LOCK_NAME)), 'stop() gives the folder up');
  const second = await startStudio({ model: DEFAULT_MODEL_DIR, dataDir });
  await second.stop();
});

test('a lock left by a process that has exited is taken over', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stale-lock-'));
  const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(exited.stdout);
  assert.ok(deadPid > 0);
  writeFileSync(join(dataDir, LOCK_NAME), `${deadPid}\n`);
  const studio = await startStudio({ model: DEFAULT_MODEL_DIR, dataDir });
  try {
    // Now it is this instance's: a further one is refused with this process's pid, not the dead one's.
    assert.match((await refusedStart(dataDir)).message, new RegExp(`in use by another Restart Studio \\(pid ${process.pid}\\)`));
  } finally {
    await studio.stop();
  }
});

test('a service that fails to start after taking the lock gives the folder up', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'failed-start-'));
  const cannotFork = new Error('spawn EAGAIN');
  assert.throws(
    () =>
      new StudioService({
        dataDir,
        mode: 'browser',
        spawnEngine: () => {
          throw cannotFork;
        },
        galleryUrl: (id) => `/gallery/${id}`,
        initialModel: DEFAULT_MODEL_DIR,
      }),
    (error) => error === cannotFork,
  );
  assert.ok(!existsSync(join(dataDir, LOCK_NAME)), 'the lock is released');
  const studio = await startStudio({ model: DEFAULT_MODEL_DIR, dataDir });
  await studio.stop();
});
