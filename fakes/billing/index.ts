export {
  startBillingFake,
  type BillingFake,
  type BillingFakeCall,
  type BillingFakeModes,
  type BillingDownMode,
} from './server';
export { PLANS, billingTime, type FakeAccount } from './store';
export type { ReceivedUserData } from './user-data';
