/** The billing-setup flow's contract: workflow id, input and result. No I/O: the workflow imports it. */

/** One run per user (sign-up starts it once the account exists). */
export const billingSetupWorkflowId = (userId: string) => `billing-setup/${userId}`;

/** What billing setup knows of a new user: no token (it never sees the user's session). */
export interface BillingUser {
  user_id: string;
  email: string;
  full_name: string | null;
}

export interface BillingSetupResult {
  /** BILLING_DEFAULT_PLAN, or null when none is configured. */
  plan: string | null;
  /** Whether this run applied it (false when it was in place already). */
  applied: boolean;
}
