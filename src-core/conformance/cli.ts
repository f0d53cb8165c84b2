// npm run conformance -- FILE...: runs conformance files of any known format, one line per case.
import { readFileSync } from 'node:fs';
import { runConformance } from './formats.ts';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npm run conformance -- FILE [FILE...]');
  process.exit(2);
}
let failed = 0,
  total = 0;
for (const file of files) {
  let results;
  try {
    results = await runConformance(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    console.error(`${file}: ${(error as Error).message}`);
    failed++;
    continue;
  }
  for (const r of results) {
    total++;
    if (!r.pass) failed++;
    console.log(`${r.pass ? 'PASS' : 'FAIL'}  ${r.id}  ${r.detail}`);
  }
}
console.log(`${total - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
