import { Admission } from '../../src/upstreams/admission';

/**
 * The pool's admission (src/upstreams/admission.ts): at most `limit` calls dispatched, the rest in
 * order; a place freed by a batch of calls ending goes on only after the batch, and never to a call
 * that ended or is past its deadline meanwhile.
 */
class Call {
  admitted = false;
  ended = false;
  readonly expiresAt: number;
  constructor(
    readonly name: string,
    ms = 10_000,
  ) {
    this.expiresAt = performance.now() + ms;
  }
}

function setUp(limit: number, onDispatch?: (call: Call, admission: Admission<Call>) => void) {
  const dispatched: string[] = [];
  const admission: Admission<Call> = new Admission<Call>(limit, (call) => {
    dispatched.push(call.name);
    onDispatch?.(call, admission);
  });
  const end = (call: Call) => {
    call.ended = true;
    admission.leave(call);
  };
  return { admission, dispatched, end };
}

const microtasks = () => new Promise((resolve) => setImmediate(resolve));

describe('Admission', () => {
  it('dispatches up to its limit, then in order as places free, and a newcomer waits its turn', async () => {
    const { admission, dispatched, end } = setUp(2);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => new Call(n));
    for (const call of [a!, b!, c!]) admission.enter(call);
    expect([dispatched, admission.waiting]).toEqual([['a', 'b'], 1]);
    end(a!);
    admission.enter(d!); // a place is free but c waits first
    await microtasks();
    expect(dispatched).toEqual(['a', 'b', 'c']);
    end(b!);
    await microtasks();
    expect([dispatched, admission.waiting]).toEqual([['a', 'b', 'c', 'd'], 0]);
  });

  it('hands a place on only after a batch of ends, skipping calls that ended or expired in it', async () => {
    const { admission, dispatched, end } = setUp(1);
    const running = new Call('running');
    const late = new Call('late', -1); // its deadline has passed; the deadlines will end it
    const aborted = new Call('aborted');
    const next = new Call('next');
    for (const call of [running, late, aborted, next]) admission.enter(call);
    // One batch (a deadline timer, a stall): the running call ends, then a waiting one.
    end(running);
    end(aborted);
    expect(dispatched).toEqual(['running']);
    await microtasks();
    expect([dispatched, admission.waiting]).toEqual([['running', 'next'], 0]);
    expect([late.admitted, aborted.admitted]).toEqual([false, false]);
  });

  it('counts a call that ends inside its own dispatch once, and serves the next', async () => {
    const { admission, dispatched, end } = setUp(1, (call) => {
      if (call.name === 'refused') end(call); // e.g. an invalid header: undici fails it at once
    });
    for (const name of ['refused', 'second', 'third']) admission.enter(new Call(name));
    await microtasks();
    expect([dispatched, admission.waiting]).toEqual([['refused', 'second'], 1]);
  });

  it('sends every waiting call on flush, past the limit', () => {
    const { admission, dispatched } = setUp(1);
    for (const name of ['a', 'b', 'c']) admission.enter(new Call(name));
    admission.flush();
    expect([dispatched, admission.waiting]).toEqual([['a', 'b', 'c'], 0]);
  });
});
