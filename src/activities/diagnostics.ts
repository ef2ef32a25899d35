import { activityInfo } from '@temporalio/activity';
import type { Logger } from '../logger';

/** The echo workflow's activity: proves an activity worker answers. */
export function createDiagnosticsActivities(deps: { logger: Logger; workerIdentity: string }) {
  return {
    echo(message: string): Promise<{ message: string; worker: string }> {
      deps.logger.debug({ workflowId: activityInfo().workflowExecution?.workflowId }, 'echo activity');
      return Promise.resolve({ message, worker: deps.workerIdentity });
    },
  };
}
