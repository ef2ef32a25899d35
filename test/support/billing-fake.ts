/**
 * The fake billing service for tests (implementation in fakes/billing, which also runs on its own).
 *
 *   const billing = await startBillingFake();      // ephemeral port on 127.0.0.1
 *   config BILLING_SERVICE_URL = billing.url
 *   await billing.setDown(true);                    // or setModes({ silent: true }), setModes({ variance: true })
 *   expect(billing.account(sub)?.planApplications).toEqual(['free']);
 */
export * from '../../fakes/billing';
