// Background work whose results must be handed on in order (a batch's PNGs, then their files): every task
// starts at once and runs alongside what comes next, but its result is handed on only after every earlier
// task's. A failure does not stop later tasks (nothing finished is lost); the first one is kept and thrown.
export class InOrder<T = void> {
  private tail: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  /** Hands `work`'s result to `handOn` after every earlier task's; the promise settles then (it never rejects). */
  add(work: Promise<T>, handOn: (value: T) => void | Promise<void>): Promise<void> {
    work.catch(() => undefined); // observed in turn below; not an unhandled rejection meanwhile
    return this.queue(async () => handOn(await work));
  }

  /** Runs `task` once every earlier one is done (tasks that must not overlap, such as numbered file writes). */
  queue(task: () => void | Promise<void>): Promise<void> {
    this.tail = this.tail.then(async () => {
      try {
        await task();
      } catch (error) {
        this.failure ??= { error };
      }
    });
    return this.tail;
  }

  /** Whether a task has failed so far. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Waits for every task added so far; throws the first failure. */
  async drain(): Promise<void> {
    await this.tail;
    if (this.failure) throw this.failure.error;
  }
}
