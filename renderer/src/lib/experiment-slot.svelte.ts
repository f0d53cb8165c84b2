// One queued experiment (the Compare view's grid or the Explore view's sweep): its state, running it,
// cancelling it (also before the engine has answered with a job id), and reporting its failure once.
// The state itself changes only through the pure reducer in experiment.ts.
import { withContext } from './errors.ts';
import {
  experimentAccepted,
  experimentActive,
  experimentAdopted,
  experimentEvent,
  experimentInterrupted,
  experimentRejected,
  idleExperiment,
  startExperiment,
  type ExperimentEvent,
  type ExperimentState,
} from './experiment.ts';

export interface SlotWiring<Request> {
  /** The message prefix of this experiment's failures ("Could not run the grid"). */
  failed: string;
  queue(request: Request): Promise<{ jobId: string }>;
  cancel(jobId: string): Promise<void>;
  showError(message: string): void;
}

export class ExperimentSlot<Request, Item extends { jobId: string }, Done extends { jobId: string }> {
  state = $state.raw<ExperimentState<Request, Item, Done>>(idleExperiment());
  #cancelWanted = false;

  constructor(private readonly wiring: SlotWiring<Request>) {}

  get busy(): boolean {
    return experimentActive(this.state);
  }

  async run(request: Request, total: number): Promise<void> {
    this.#cancelWanted = false;
    this.state = startExperiment(request, total);
    try {
      const { jobId } = await this.wiring.queue(request);
      this.#set(experimentAccepted(this.state, jobId));
      if (this.#cancelWanted && this.busy) void this.cancel();
    } catch (error) {
      this.#set(experimentRejected(this.state, withContext(this.wiring.failed, error)));
    }
  }

  /** Follows a job of this kind that another window started, or that this one started before a reload. */
  adopt(job: { jobId: string; request: Request; total: number; items: Item[] }): void {
    this.#set(experimentAdopted(this.state, job));
  }

  /** Cancels the running experiment; before its job id is known, as soon as it is. */
  async cancel(): Promise<void> {
    if (!this.busy) return;
    if (!this.state.jobId) {
      this.#cancelWanted = true;
      return;
    }
    await this.wiring.cancel(this.state.jobId);
  }

  event(event: ExperimentEvent<Item, Done>): void {
    this.#set(experimentEvent(this.state, event));
  }

  /** The engine or the connection went away: the experiment ends with `why`. */
  interrupt(why: string): void {
    this.#set(experimentInterrupted(this.state, `${this.wiring.failed}: ${why}`));
  }

  #set(next: ExperimentState<Request, Item, Done>): void {
    const before = this.state;
    if (next === before) return;
    this.state = next;
    if (next.phase === 'failed' && before.phase !== 'failed' && next.error) {
      this.wiring.showError(next.error.startsWith('Could not') ? next.error : withContext(this.wiring.failed, next.error));
    }
  }
}
