import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hasScheduling, promptSchedule, scheduleIndexAt } from './schedule.ts';

interface Case {
  prompt: string;
  steps: number;
  hires?: { firstPassSteps: number };
  schedule?: Array<[number, string]>;
  schedules?: Array<Array<[number, string]>>;
}

const vectors = JSON.parse(readFileSync(new URL('../../tests/fixtures/prompt-schedule-vectors.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};

test('schedules match A1111 get_learned_conditioning_prompt_schedules on every vector', () => {
  assert.ok(vectors.cases.length > 900);
  const failures: string[] = [];
  for (const c of vectors.cases) {
    const got = promptSchedule(c.prompt, c.steps, c.hires).map((e): [number, string] => [e.endAt, e.text]);
    const expected = c.schedules ?? [c.schedule!];
    if (!expected.some((e) => JSON.stringify(e) === JSON.stringify(got))) {
      failures.push(
        `${JSON.stringify(c.prompt)} steps ${c.steps}${c.hires ? ' hires' : ''}: ${JSON.stringify(got)} vs ${JSON.stringify(expected)}`,
      );
    }
  }
  assert.deepEqual(failures, []);
});

test('the vectors cover edits, alternation, hires offsets and prompts A1111 reads as plain text', () => {
  const multi = vectors.cases.filter((c) => (c.schedule ?? c.schedules![0]).length > 1);
  assert.ok(multi.length > 100);
  assert.ok(vectors.cases.some((c) => c.hires && (c.schedule ?? []).length > 1));
  assert.ok(vectors.cases.some((c) => c.prompt.includes('[') && c.schedule?.length === 1 && c.schedule[0][1] === c.prompt));
});

test('a few schedules spelled out', () => {
  assert.deepEqual(promptSchedule('[a red circle:a blue square:0.5]', 20), [
    { endAt: 10, text: 'a red circle' },
    { endAt: 20, text: 'a blue square' },
  ]);
  assert.deepEqual(promptSchedule('[a|b]', 3), [
    { endAt: 1, text: 'a' },
    { endAt: 2, text: 'b' },
    { endAt: 3, text: 'a' },
  ]);
  // A prompt without editing keeps its text as typed, brackets and escapes included.
  assert.deepEqual(promptSchedule('a (b) [c] \\[d\\]', 20), [{ endAt: 20, text: 'a (b) [c] \\[d\\]' }]);
  assert.equal(hasScheduling('a (b) [c]'), false);
  assert.equal(hasScheduling('a [b:c:2]'), true);
  assert.equal(hasScheduling('a [b|c] | d'), false); // a `|` outside brackets: A1111 reads all of it as text
});

test('the text used at each evaluation counts evaluations from 0, and past the last step goes back to the first', () => {
  const schedule = promptSchedule('[a:b:3]', 10);
  const picks = Array.from(
    { length: 12 },
    (_, e) =>
      schedule[
        scheduleIndexAt(
          schedule.map((s) => s.endAt),
          e,
        )
      ].text,
  );
  // A1111's CFGDenoiser.step starts at 0 and reconstruct_cond_batch takes the first end_at_step >= step: the edit at
  // step 3 leaves evaluations 0..3 on the first text; step 11 is past every end_at_step, so index 0 again.
  assert.deepEqual(picks, ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'a']);
});
