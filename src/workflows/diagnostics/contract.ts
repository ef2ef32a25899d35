/** The echo workflow's contract (operators' round trip through the worker). */

export interface EchoInput {
  message: string;
}

export interface EchoResult {
  message: string;
  workflowId: string;
  echoedBy: string;
}
