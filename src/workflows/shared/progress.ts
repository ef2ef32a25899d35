import { defineQuery } from '@temporalio/workflow';

/** `{done, total}` of a countable operation (GET /v1/operations/{id} shows it as `progress`). */
export interface OperationProgress {
  done: number;
  total: number;
}

/** Answered by every workflow whose work is countable, while it runs. */
export const progressQuery = defineQuery<OperationProgress>('progress');
