/**
 * Every workflow the gateway's worker runs (the worker bundles this file). Deterministic code
 * only: no Node builtins, no I/O. Each flow's updates, queries, ids and types are in its contract.ts.
 */
export { echoWorkflow } from './diagnostics/workflow';
export { chatUploadConversations, chatDeleteAll } from './chat/workflow';
export { signUpWorkflow } from './sign-up/workflow';
export { orgInviteWorkflow } from './org-invite/workflow';
export { billingSetupWorkflow } from './billing-setup/workflow';
