// Generate requests waiting for their turn: a second Generate while one runs is queued here (shown
// with Remove), and a Generate pressed while the model is still loading waits for it.
import type { GenerateRequestInput } from '../../../src-core/contract/generate.ts';
import { imagesOf } from '../../../src-core/contract/generate.ts';

export interface QueuedRequest {
  id: number;
  request: GenerateRequestInput;
  /** What the queue list shows: "seed 42 · 4 images · a red circle…". */
  label: string;
}

const PROMPT_CHARS = 40;

export function queuedLabel(request: GenerateRequestInput): string {
  const images = imagesOf(request);
  const prompt = request.prompt.length > PROMPT_CHARS ? `${request.prompt.slice(0, PROMPT_CHARS)}…` : request.prompt;
  return `seed ${request.seed} · ${images} image${images === 1 ? '' : 's'} · ${prompt || '(empty prompt)'}`;
}

export class GenerateQueue {
  items = $state.raw<QueuedRequest[]>([]);
  /** Generate was pressed before the model's info arrived: run it once the model is ready. */
  wanted = $state(false);
  #nextId = 1;

  add(request: GenerateRequestInput): void {
    this.items = [...this.items, { id: this.#nextId++, request, label: queuedLabel(request) }];
  }

  remove(id: number): void {
    this.items = this.items.filter((q) => q.id !== id);
  }

  /** The next request to run, taken off the queue. */
  take(): GenerateRequestInput | undefined {
    const [next, ...rest] = this.items;
    this.items = rest;
    return next?.request;
  }
}
