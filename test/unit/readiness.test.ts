import { InstanceReadiness, OVERLOADED_EVENT_LOOP_LAG_MS } from '../../src/api/health';

describe('instance readiness', () => {
  it('needs started, migrations applied, no draining and a loop that keeps up', async () => {
    let pending: string[] | Error = new Error('database away');
    const r = new InstanceReadiness(async () => {
      if (pending instanceof Error) throw pending;
      return pending;
    });
    try {
      r.started = true;
      expect(await r.conditions(1_000)).toMatchObject({ migrations: 'unknown' });
      pending = ['Migration_next'];
      expect(await r.conditions(1_000)).toMatchObject({ migrations: 'pending' });
      pending = [];
      const ok = await r.conditions(1_000);
      expect(InstanceReadiness.isReady(ok)).toBe(true);

      // Applied once is applied for good: a later database outage does not make it unknown.
      pending = new Error('database away');
      expect(await r.conditions(1_000)).toMatchObject({ migrations: 'applied' });

      r.lagMs = OVERLOADED_EVENT_LOOP_LAG_MS + 1;
      const busy = await r.conditions(1_000);
      expect(busy.overloaded).toBe(true);
      expect(InstanceReadiness.isReady(busy)).toBe(false);
      r.lagMs = 0;

      r.draining = true;
      expect(InstanceReadiness.isReady(await r.conditions(1_000))).toBe(false);
    } finally {
      r.close();
    }
  });
});
