// SD 1.5's scheduler config and tokenizer for tests. The embedded model ships both byte for byte as
// SD 1.5 has them (schedule.test.ts and clip-tokenizer.test.ts check that against ../shared where it is
// present), so tests read them from the model and run without the shared folder.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../../src-core/model/default-model.ts';
import { DiscreteSchedule, type SchedulerConfig } from '../../src-core/schedule/discrete.ts';

export const SD15_SCHEDULER_CONFIG_PATH = join(DEFAULT_MODEL_DIR, 'scheduler', 'scheduler_config.json');

/** A folder with SD 1.5's vocab.json, merges.txt, tokenizer_config.json and special_tokens_map.json. */
export const SD15_TOKENIZER_DIR = join(DEFAULT_MODEL_DIR, 'tokenizer');

/** SD 1.5's scheduler_config.json, parsed (a fresh object each call). */
export function sd15SchedulerConfig(): SchedulerConfig {
  return JSON.parse(readFileSync(SD15_SCHEDULER_CONFIG_PATH, 'utf8')) as SchedulerConfig;
}

/** SD 1.5's 1000-step sigma table. */
export function sd15Schedule(): DiscreteSchedule {
  return new DiscreteSchedule(sd15SchedulerConfig());
}
