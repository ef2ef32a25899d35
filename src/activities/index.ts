import { activityInfo } from '@temporalio/activity';
import type { Logger } from '../logger';

export interface ActivityDependencies {
  logger: Logger;
  workerIdentity: string;
}

/** Builds the activity implementations with their dependencies (clients are shared, never global). */
export function createActivities(deps: ActivityDependencies) {
  return {
    echo(message: string): Promise<{ message: string; worker: string }> {
      deps.logger.debug({ workflowId: activityInfo().workflowExecution?.workflowId }, 'echo activity');
      return Promise.resolve({ message, worker: deps.workerIdentity });
    },
  };
}

export type GatewayActivities = ReturnType<typeof createActivities>;
