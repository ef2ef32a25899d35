import { emailHashOf } from '../../src/auth/hashing';
import { orgInviteWorkflowId } from '../../src/workflows/org-invite/contract';
import { signUpWorkflowId } from '../../src/workflows/sign-up/contract';

/** The workflow ids the routes derive from an e-mail (the contracts take its hash). */
export const signUpWorkflowIdOf = (email: string) => signUpWorkflowId(emailHashOf(email));
export const inviteWorkflowIdOf = (orgId: string, email: string) => orgInviteWorkflowId(orgId, emailHashOf(email));
