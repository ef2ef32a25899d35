import { InvalidEventError, buildEvent } from '../../src/events/outbox';
import { testConfig } from '../support/stack';

const config = testConfig();
const base = { requestId: 'r-1', actor: { user_id: null, ip: null } };

describe('event data is validated against the published schemas', () => {
  it('accepts the shape of events.md', () => {
    const { envelope, topic, key } = buildEvent(config, {
      ...base,
      eventType: 'member_removed',
      data: { org_id: 'o-1', user_id: 'u-1', removed_by: 'u-2' },
    });
    expect(topic).toBe('organization-events');
    expect(key).toBe('o-1');
    expect(envelope.data).toEqual({ org_id: 'o-1', user_id: 'u-1', removed_by: 'u-2' });
  });

  it('refuses a missing field, an extra field and a malformed timestamp', () => {
    expect(() =>
      buildEvent(config, { ...base, eventType: 'member_removed', data: { org_id: 'o-1', user_id: 'u-1' } as never }),
    ).toThrow(InvalidEventError);
    expect(() =>
      buildEvent(config, {
        ...base,
        eventType: 'user_logged_in',
        data: { user_id: 'u-1', email: 'leak@example.com' } as never,
      }),
    ).toThrow(/does not match events.md/);
    const invited = {
      org_id: 'o',
      invite_id: 'i',
      email: 'e@example.com',
      role: 'member',
      invited_by: 'u',
      invite_token: 't',
      expires_at: 'tomorrow',
    };
    expect(() => buildEvent(config, { ...base, eventType: 'user_invited', data: invited })).toThrow(/expires_at/);
  });
});
