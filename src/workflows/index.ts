/**
 * Every workflow the gateway's worker runs. Deterministic code only: no Node builtins, no I/O.
 */
export { echoWorkflow } from './diagnostics';
export { chatUploadConversations, chatDeleteAll, progressQuery } from './chat';
export { signUpWorkflow, signUpAnswer } from './sign-up';
export { orgInviteWorkflow, inviteIssued, acceptInvite, revokeInvite } from './org-invite';
export { billingSetupWorkflow } from './billing-setup';
