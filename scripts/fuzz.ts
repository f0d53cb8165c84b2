// npm run fuzz -- [--count 10000] [--seed 1]: hostile payloads through the local server's contract
// validation into the engine; every one must get a specific error or a valid answer, the engine must
// not crash, and a valid request right after must succeed.
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { runFuzz } from '../tests/helpers/fuzz-run.ts';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' }, model: { type: 'string' } },
});
const report = await runFuzz({ count: Number(values.count), seed: Number(values.seed), model: values.model ?? DEFAULT_MODEL_DIR });
console.log(JSON.stringify(report, null, 2));
process.exit(report.problems.length === 0 ? 0 : 1);
