// The Compare view's grid and the Explore view's sweep: their forms, their jobs (one ExperimentSlot each) and
// the engine events that feed them. The Studio owns one and lends it what the experiments share with the
// Generate view: the form they start from, the banner, the gallery and cancelling a job.
import type { ActiveJob, GalleryEntry, GridCellEvent, SweepPointEvent } from '../../../src-core/contract/api.ts';
import { defaultCompareForm, type CompareForm } from './compare-form.ts';
import { gridBase } from './grid-base.ts';
import { buildGridRequest, firstGridError, type GridRequestInput } from './grid-request.ts';
import type { StudioClient } from './client.ts';
import { ExperimentSlot } from './experiment-slot.svelte.ts';
import type { FormState } from './form.ts';
import type { GridDone, GridEvent, GridState } from './grid.ts';
import { withImg2img, type HiresForm, type Img2imgForm } from './img2img.ts';
import {
  buildSweepRequest,
  defaultExploreForm,
  firstSweepError,
  sweepTotal,
  type ExploreForm,
  type SweepDone,
  type SweepEvent,
  type SweepRequestInput,
  type SweepState,
} from './sweep.ts';

export const GRID_FAILED = 'Could not run the grid';
export const SWEEP_FAILED = 'Could not run the sweep';

/** What the experiments use of the Studio. */
export interface ExperimentHost {
  readonly client: StudioClient;
  readonly form: FormState;
  readonly img2img: Img2imgForm;
  readonly hires: HiresForm;
  readonly vaeFactor: number;
  readonly sizeMultiple: number;
  /** Shows a message in the error banner (null clears it). */
  setError(message: string | null): void;
  /** Shows a form check's message until the form no longer gives it. */
  showFormError(check: () => string | null): void;
  cancelJob(jobId: string): Promise<void>;
  addToGallery(entries: GalleryEntry[]): void;
}

export class Experiments {
  /** The Compare view's axes and its grid job. */
  compare = $state<CompareForm>(defaultCompareForm());
  readonly gridSlot: ExperimentSlot<GridRequestInput, GridCellEvent, GridDone>;
  /** The Explore view's form and its sweep job. */
  explore = $state<ExploreForm>(defaultExploreForm());
  readonly sweepSlot: ExperimentSlot<SweepRequestInput, SweepPointEvent, SweepDone>;

  constructor(private readonly host: ExperimentHost) {
    const wiring = { cancel: (jobId: string) => host.cancelJob(jobId), showError: (message: string) => host.setError(message) };
    this.gridSlot = new ExperimentSlot({ ...wiring, failed: GRID_FAILED, queue: (request) => host.client.call('job.grid', request) });
    this.sweepSlot = new ExperimentSlot({ ...wiring, failed: SWEEP_FAILED, queue: (request) => host.client.call('job.sweep', request) });
  }

  get grid(): GridState {
    return this.gridSlot.state;
  }

  get sweep(): SweepState {
    return this.sweepSlot.state;
  }

  get gridBusy(): boolean {
    return this.gridSlot.busy;
  }

  get sweepBusy(): boolean {
    return this.sweepSlot.busy;
  }

  /** Follows the engine's grid and sweep events; returns what unsubscribes them. */
  subscribe(): Array<() => void> {
    const { client } = this.host;
    // Grids and sweeps report progress, previews and failure with the job events too.
    const shared = (['job.progress', 'job.preview', 'job.failed'] as const).map((name) =>
      client.on(name, (data) => {
        this.gridSlot.event({ name, data } as GridEvent);
        this.sweepSlot.event({ name, data } as SweepEvent);
      }),
    );
    return [
      ...shared,
      client.on('grid.cell', (cell) => {
        this.host.addToGallery([cell.entry]);
        this.gridSlot.event({ name: 'item', data: cell });
      }),
      client.on('grid.done', (done) => this.gridSlot.event({ name: 'done', data: done, items: done.cells })),
      client.on('sweep.point', (point) => {
        this.host.addToGallery(point.entries);
        this.sweepSlot.event({ name: 'item', data: point });
      }),
      client.on('sweep.done', (done) => this.sweepSlot.event({ name: 'done', data: done, items: done.points })),
    ];
  }

  /** Grids and sweeps running that this window does not follow (it was reloaded or opened meanwhile). */
  adopt(active: ActiveJob[]): void {
    for (const job of active) {
      if (job.kind === 'grid') this.gridSlot.adopt({ ...job, items: job.cells });
      if (job.kind === 'sweep') this.sweepSlot.adopt({ ...job, items: job.points });
    }
  }

  /** The running grid and sweep end with `why`; their finished images are (or will be) in the gallery. */
  interrupt(why: string, later: boolean): void {
    const where = later ? 'will appear' : 'are';
    this.gridSlot.interrupt(`${why}; finished cells ${where} in the gallery`);
    this.sweepSlot.interrupt(`${why}; finished images ${where} in the gallery`);
  }

  /** Queues job.grid for the Compare view's axes over the Generate form's request. */
  async runGrid(): Promise<void> {
    if (this.gridBusy) return;
    const checked = this.#gridRequest();
    if (!checked.request) {
      this.host.showFormError(() => {
        const c = this.#gridRequest(() => 0);
        return c.request ? null : `${GRID_FAILED}: ${firstGridError(c.errors) ?? 'the grid is not valid'}`;
      });
      return;
    }
    this.host.setError(null);
    await this.gridSlot.run($state.snapshot(checked.request), checked.cells);
  }

  #gridRequest(random?: () => number) {
    const { form, img2img, hires, vaeFactor, sizeMultiple } = this.host;
    const sizes = { vaeFactor, sizeMultiple, random };
    return buildGridRequest(this.compare, withImg2img(gridBase(form, this.compare, sizes), img2img, hires, sizes));
  }

  cancelGrid(): Promise<void> {
    return this.gridSlot.cancel();
  }

  /** Queues job.sweep for the Explore view's form. */
  async runSweep(): Promise<void> {
    if (this.sweepBusy) return;
    const checked = buildSweepRequest(this.explore, this.host.form);
    if (!checked.request) {
      this.host.showFormError(() => {
        const c = buildSweepRequest(this.explore, this.host.form);
        return c.request ? null : `${SWEEP_FAILED}: ${firstSweepError(c.errors) ?? 'the sweep is not valid'}`;
      });
      return;
    }
    const request = $state.snapshot(checked.request);
    this.host.setError(null);
    await this.sweepSlot.run(request, sweepTotal(request));
  }

  cancelSweep(): Promise<void> {
    return this.sweepSlot.cancel();
  }
}
