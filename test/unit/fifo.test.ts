import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { Fifo } from '../../src/lib/fifo';

/**
 * src/lib/fifo.ts: order, batches, putting a batch back, and the reason it exists: an item it has
 * handed out is no longer referenced by the queue (checked with a WeakRef and a real collection in
 * a child process, since the test runner does not expose `gc`).
 */
describe('Fifo', () => {
  it('hands items out oldest first, one at a time or in batches', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 10; i++) q.push(i);
    expect(q.shift()).toBe(0);
    expect(q.take(4)).toEqual([1, 2, 3, 4]);
    expect(q.size).toBe(5);
    expect(q.take(100)).toEqual([5, 6, 7, 8, 9]);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.take(3)).toEqual([]);
  });

  it('puts a batch back in front of the rest, in order', () => {
    const q = new Fifo<string>();
    for (const s of ['a', 'b', 'c', 'd']) q.push(s);
    const batch = q.take(2);
    q.push('e');
    q.putBack(batch);
    expect(q.take(10)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('keeps its order across compactions of a long queue', () => {
    const q = new Fifo<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) q.push(next++);
      for (const n of q.take(250)) expect(n).toBe(expected++);
      expect(q.shift()).toBe(expected++);
    }
    expect(q.size).toBe(next - expected);
    for (const n of q.take(q.size)) expect(n).toBe(expected++);
  });

  it('no longer references an item it handed out', () => {
    const source = readFileSync(join(__dirname, '../../src/lib/fifo.ts'), 'utf8');
    const fifoJs = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS } }).outputText;
    const script = `
      const module = { exports: {} };
      new Function('module', 'exports', ${JSON.stringify(fifoJs)})(module, module.exports);
      const { Fifo } = module.exports;
      const q = new Fifo();
      for (let i = 0; i < 100; i++) q.push({ i });
      let shifted, taken;
      (() => {
        const a = { big: new Array(1000).fill(1) }, b = { big: new Array(1000).fill(2) };
        q.push(a); q.push(b);
        q.take(100);
        shifted = new WeakRef(q.shift());
        taken = new WeakRef(q.take(1)[0]);
      })();
      q.push({ later: true });
      setTimeout(() => {
        gc();
        process.stdout.write(JSON.stringify([shifted.deref() === undefined, taken.deref() === undefined, q.size]));
      }, 10);`;
    const res = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
      cwd: join(__dirname, '../..'),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toEqual([true, true, 1]);
  });
});
