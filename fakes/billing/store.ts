/** The billing fake's state and rules (billing-service.md, including the real service's sharp edges). */

export interface FakePlan {
  plan_code: string;
  name: string;
  monthly_units: number;
  price_rub: number;
  is_active: boolean;
  created_at: string;
}

export interface FakeSubscription {
  id: number;
  plan_code: string;
  started_at: Date;
  expires_at: Date;
  auto_renew: boolean;
  created_at: Date;
}

export interface FakeAccount {
  sub: string;
  balance: number;
  /** Set by /user/init only (a balance created by /balance, /debit… never gets it). */
  initialized: boolean;
  /** `0000` after /user/init (not in the catalogue), a catalogue code after /plan/apply, or null. */
  planCode: string | null;
  subscription: FakeSubscription | null;
  /** First answer per `${direction}:${ref}` (plan/apply shares the credit space). */
  refs: Map<string, { tx_id: number }>;
  /** Successful /plan/apply calls (a test checks "exactly once"). */
  planApplications: string[];
}

/** Seeded plans; `price_rub` in kopecks, sent as a float. */
export const PLANS: Record<string, FakePlan> = {
  free: { plan_code: 'free', name: 'Free', monthly_units: 10, price_rub: 0, is_active: true, created_at: '' },
  base750: {
    plan_code: 'base750',
    name: 'Base',
    monthly_units: 750,
    price_rub: 29900,
    is_active: true,
    created_at: '',
  },
  pro1500: {
    plan_code: 'pro1500',
    name: 'Pro',
    monthly_units: 1500,
    price_rub: 49900,
    is_active: true,
    created_at: '',
  },
};

/** The real service's timestamps: an offset and then a stray `Z`. */
export const billingTime = (d: Date) => `${d.toISOString().replace('Z', '')}000+00:00Z`;

export class BillingError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`billing ${status}`);
  }
}

export class BillingStore {
  readonly accounts = new Map<string, FakeAccount>();
  private nextId = 1;

  account(sub: string): FakeAccount {
    let a = this.accounts.get(sub);
    if (!a) {
      a = {
        sub,
        balance: 0,
        initialized: false,
        planCode: null,
        subscription: null,
        refs: new Map(),
        planApplications: [],
      };
      this.accounts.set(sub, a);
    }
    return a;
  }

  init(sub: string) {
    const existed = this.accounts.has(sub);
    const a = this.account(sub);
    if (!existed) {
      a.initialized = true;
      a.planCode = '0000';
    }
    return {
      success: true,
      user_id: sub,
      balance_created: !existed,
      initial_balance: a.balance,
      message: existed ? 'User already initialized' : 'User initialized',
    };
  }

  status(sub: string) {
    const a = this.accounts.get(sub);
    return {
      sub,
      balance_exists: !!a,
      balance_amount: a?.balance ?? 0,
      has_active_plan: !!a?.subscription,
      active_plan_code: a?.subscription?.plan_code ?? a?.planCode ?? null,
      is_initialized: !!a?.initialized,
    };
  }

  subscription(sub: string) {
    const a = this.accounts.get(sub);
    const s = a?.subscription;
    const plan = s ? PLANS[s.plan_code] : undefined;
    if (!a || !s || !plan) throw new BillingError(404, { detail: 'Active subscription not found' });
    const nextDebit = new Date(s.started_at.getTime() + 30 * 86_400_000);
    return {
      id: s.id,
      user_id: sub,
      plan_code: s.plan_code,
      started_at: billingTime(s.started_at),
      expires_at: billingTime(s.expires_at),
      auto_renew: s.auto_renew,
      status: s.auto_renew ? 'active' : 'cancelled',
      created_at: billingTime(s.created_at),
      remaining_units: a.balance,
      next_debit: billingTime(nextDebit),
      tariff_properties: [`${plan.monthly_units} units per month`],
      plan: { ...plan, created_at: billingTime(s.created_at) },
    };
  }

  balance(sub: string) {
    const a = this.account(sub);
    const s = a.subscription;
    return {
      balance: a.balance,
      plan: s
        ? {
            plan_code: s.plan_code,
            status: s.auto_renew ? 'active' : 'cancelled',
            expires_at: billingTime(s.expires_at),
          }
        : { plan_code: 'none', status: 'inactive', expires_at: null },
    };
  }

  /** Sequentially idempotent per (user, ref, direction); without a ref every call moves units. */
  move(sub: string, direction: 'debit' | 'credit', units: number, ref: string | undefined) {
    const a = this.account(sub);
    const key = ref ? `${direction}:${ref}` : undefined;
    const seen = key ? a.refs.get(key) : undefined;
    if (seen) return { balance: a.balance, tx_id: seen.tx_id };
    if (direction === 'debit' && a.balance < units) {
      throw new BillingError(403, { detail: { code: 'quota_exceeded', detail: 'Not enough units' } });
    }
    a.balance += direction === 'debit' ? -units : units;
    const tx = { tx_id: this.nextId++ };
    if (key) a.refs.set(key, tx);
    return { balance: a.balance, ...tx };
  }

  /** Not idempotent: the plan the user already has answers 500 and leaves no active plan. */
  applyPlan(sub: string, planCode: string, ref: string | undefined, autoRenew = true) {
    const plan = PLANS[planCode];
    if (!plan) throw new BillingError(500, 'Internal Server Error');
    const a = this.account(sub);
    if (a.subscription?.plan_code === planCode) {
      a.subscription = null;
      a.planCode = null;
      throw new BillingError(500, { detail: 'Failed to apply plan' });
    }
    const seen = ref ? a.refs.get(`credit:${ref}`) : undefined;
    if (!seen) {
      a.balance += plan.monthly_units;
      if (ref) a.refs.set(`credit:${ref}`, { tx_id: this.nextId++ });
    }
    const now = new Date();
    a.subscription = {
      id: this.nextId++,
      plan_code: planCode,
      started_at: now,
      expires_at: new Date(now.getTime() + 30 * 86_400_000),
      auto_renew: autoRenew,
      created_at: now,
    };
    a.planCode = planCode;
    a.planApplications.push(planCode);
    return { plan_id: a.subscription.id, new_balance: a.balance };
  }
}
