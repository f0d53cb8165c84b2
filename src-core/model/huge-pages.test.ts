import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHugePages } from './huge-pages.ts';

test("the engine's malloc tunables are added to the environment, and a user's own setting of one is kept", () => {
  const added = withHugePages({ PATH: '/bin' }).GLIBC_TUNABLES!.split(':');
  assert.deepEqual(
    added.map((t) => t.split('=')[0]),
    ['glibc.malloc.hugetlb', 'glibc.malloc.mmap_max', 'glibc.malloc.trim_threshold'],
  );
  const mine = withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.mmap_max=65536:glibc.cpu.hwcaps=-AVX512F' }).GLIBC_TUNABLES!.split(':');
  assert.ok(mine.includes('glibc.malloc.mmap_max=65536') && mine.includes('glibc.cpu.hwcaps=-AVX512F'));
  assert.equal(mine.filter((t) => t.startsWith('glibc.malloc.mmap_max=')).length, 1);
  const complete = { GLIBC_TUNABLES: added.join(':') };
  assert.equal(withHugePages(complete), complete, 'nothing to add: the same environment');
});
