import { boolean, brokers, duration, integer, nonEmpty, topic, v } from './parse';

/** Domain events (Kafka topics, the outbox and its relay) and access events. */
export const EVENTS = {
  KAFKA_BOOTSTRAP_SERVERS: v('kafka:29092', brokers, 'Brokers for domain events (comma list)'),
  KAFKA_CLIENT_ID: v('api-gateway', nonEmpty, 'Kafka client id'),
  KAFKA_AUTH_EVENTS_TOPIC: v('auth-events', topic, 'Topic of auth events'),
  KAFKA_USER_EVENTS_TOPIC: v('user-events', topic, 'Topic of user events'),
  KAFKA_ORGANIZATION_EVENTS_TOPIC: v('organization-events', topic, 'Topic of organisation events'),
  OUTBOX_RELAY_ENABLED: v(
    'true',
    boolean,
    'Run the outbox relay (publishes domain events to Kafka) in this process; several may run at once',
  ),
  OUTBOX_POLL_INTERVAL_MS: v(
    '250',
    integer(10, 60_000),
    'How often the relay looks for new events (NOTIFY wakes it sooner)',
  ),
  OUTBOX_BATCH_SIZE: v('500', integer(1, 10_000), 'Events the relay publishes per Kafka request'),
  OUTBOX_RELAY_LINGER_MS: v(
    '100',
    integer(0, 1_000),
    'After a partial batch, how long the relay gathers new events before its next round (fewer, larger rounds)',
  ),
  OUTBOX_RETENTION: v(
    '24h',
    duration,
    'How long published events stay in the outbox table for audit and replay before the relay deletes them',
  ),
  OUTBOX_WRITE_BUFFER_EVENTS: v(
    '20000',
    integer(1, 1_000_000),
    'Events a process holds while PostgreSQL is away; when full, requests that emit events answer 503',
  ),
  OUTBOX_WRITE_WAIT_MS: v(
    '2000',
    integer(0, 60_000),
    'Longest a state-changing request waits for its event to commit before it answers with the event held in memory (PostgreSQL slow or away)',
  ),
  ACCESS_EVENTS_BUFFER: v(
    '50000',
    integer(1, 10_000_000),
    'Access events (token_validated, user_info_requested…) one process holds while Kafka is away; when full, the oldest are dropped',
  ),
  ACCESS_EVENTS_LINGER_MS: v(
    '20',
    integer(0, 1_000),
    'How long an access event waits for company before its Kafka request: fewer, larger requests under load',
  ),
  ACCESS_EVENTS_RETURN_MEMORY_AFTER: v(
    '10000',
    integer(0, 10_000_000),
    'Once a backlog of at least this many access events (a Kafka outage) is sent, one memory-reducing garbage collection returns its memory to the system (one pause, about 0.1 s on the benchmark gateway; at most one a minute, a later backlog waits for it); 0: never',
  ),
} as const;
