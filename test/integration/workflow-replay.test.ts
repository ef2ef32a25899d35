import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { AesGcmPayloadCodec } from '../../src/temporal/codec';

jest.setTimeout(120_000);

/**
 * Workflow code changes must replay the histories of runs started by older workers (a run can be
 * open for days: invites, a long auth-service outage). Each fixture is the history of a real run
 * recorded with the code of its time (`temporal workflow show -o json`), encrypted with the test key.
 */
describe('workflow histories of older code still replay', () => {
  const codec = new AesGcmPayloadCodec([{ id: 'su', key: Buffer.alloc(32, 9) }]);
  const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8'));

  it('sign-up with createAccount and fetchUser as two activities (before the local activity)', async () => {
    const history = fixture('sign-up-two-activities.history.json');
    const scheduled = (
      history.events as { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[]
    )
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType.name)
      .filter(Boolean);
    expect(scheduled).toEqual(['createAccount', 'fetchUser', 'recordUserRegistered']);
    await expect(
      Worker.runReplayHistory(
        { workflowsPath: require.resolve('../../src/workflows'), dataConverter: { payloadCodecs: [codec] } },
        history,
        'sign-up/two-activities',
      ),
    ).resolves.toBeUndefined();
  });

  it('sign-up with one local activity and the plaintext password (before sealed secrets)', async () => {
    const history = fixture('sign-up-local-activity.history.json');
    const markers = (history.events as { markerRecordedEventAttributes?: { markerName: string } }[])
      .map((e) => e.markerRecordedEventAttributes?.markerName)
      .filter(Boolean);
    expect(markers).toEqual(['core_patch', 'core_local_activity']);
    await expect(
      Worker.runReplayHistory(
        { workflowsPath: require.resolve('../../src/workflows'), dataConverter: { payloadCodecs: [codec] } },
        history,
        'sign-up/local-activity',
      ),
    ).resolves.toBeUndefined();
  });

  it('sign-up with sealed secrets, the credential-proof update and GatewayUserId (today’s code)', async () => {
    const history = fixture('sign-up-sealed-secrets.history.json');
    const upserts = (history.events as { eventType: string }[]).filter(
      (e) => e.eventType === 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
    );
    expect(upserts).toHaveLength(2); // the patch marker's, then GatewayUserId
    await expect(
      Worker.runReplayHistory(
        { workflowsPath: require.resolve('../../src/workflows'), dataConverter: { payloadCodecs: [codec] } },
        history,
        'sign-up/sealed-secrets',
      ),
    ).resolves.toBeUndefined();
  });
});
