import { ApplicationFailure, condition } from '@temporalio/workflow';

/**
 * The outcome of a run's first step, which an Update-with-Start caller waits for (the early-return
 * pattern): the update handler answers with `answer()` once the run has set `value` or `fail`ed.
 */
export class EarlyReturn<T> {
  value: T | undefined;
  failure: ApplicationFailure | undefined;

  /** Resolves once the first step succeeded or failed. */
  settled(): Promise<void> {
    return condition(() => this.value !== undefined || this.failure !== undefined);
  }

  async answer(): Promise<T> {
    await this.settled();
    if (this.failure) throw this.failure;
    return this.value!;
  }

  /**
   * Records why the first step failed, as the ApplicationFailure an update can fail with: an
   * activity's own failure (the cause of its ActivityFailure), so its type and details reach the caller.
   */
  fail(err: unknown): ApplicationFailure {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof ApplicationFailure) this.failure = cause;
    else this.failure = err instanceof ApplicationFailure ? err : ApplicationFailure.fromError(err);
    return this.failure;
  }
}
