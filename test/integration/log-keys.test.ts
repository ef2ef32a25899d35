import { request } from 'undici';
import { createServer } from '../../src/api/app';
import { createDependencies } from '../../src/api/dependencies';
import { createProcessLogger } from '../../src/logger';
import { duplicateJsonKeys } from '../support/json-keys';
import { captureLog } from '../support/log-capture';
import { testConfig, waitFor } from '../support/stack';

jest.setTimeout(60_000);

/**
 * pino appends a child's bindings to its parent's, so a child that re-binds a key writes it twice
 * (`"component":"api","component":"chat-request-reply"`); JSON.parse hides it, log shippers do not.
 */
describe('log lines of the API process', () => {
  it('never carry a key twice', async () => {
    const log = captureLog();
    // The chat broker is unreachable: the chat client and kafkajs under it log warnings and errors.
    const config = testConfig({ LOG_LEVEL: 'debug', CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9' });
    const logger = createProcessLogger(config.LOG_LEVEL, 'api', log.stream);
    const deps = await createDependencies(config, logger);
    const app = await createServer(config, logger, deps);
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const address = app.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      for (const path of ['/health/ready', '/api/chat/conversations/', '/no/such/path']) {
        await (await request(`${url}${path}`)).body.dump();
      }
      const lines = () => log.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      await waitFor('lines of the chat client and of kafkajs', async () =>
        lines().some((l) => l.component === 'chat-request-reply' && l.library === 'kafkajs'),
      );
    } finally {
      await app.close();
      await deps.close();
    }

    const parsed = log.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.filter((l) => l.msg === 'request completed')).toHaveLength(3);
    expect(parsed.some((l) => l.component === 'chat-request-reply' && l.role === 'api')).toBe(true);
    const duplicated = log.lines.map((l) => ({ line: l.slice(0, 200), keys: duplicateJsonKeys(l) }));
    expect(duplicated.filter((d) => d.keys.length > 0)).toEqual([]);
  });
});
