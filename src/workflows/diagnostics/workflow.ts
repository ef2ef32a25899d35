import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { GatewayActivities } from '../../activities';
import type { EchoInput, EchoResult } from './contract';

const { echo } = proxyActivities<GatewayActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

/**
 * Diagnostic round trip through the worker and an activity: operators run it to prove that the
 * worker polls its task queue and that payloads pass the codec in both directions.
 */
export async function echoWorkflow(input: EchoInput): Promise<EchoResult> {
  const echoed = await echo(input.message);
  return { message: echoed.message, workflowId: workflowInfo().workflowId, echoedBy: echoed.worker };
}
