import { describe, expect, it } from 'vitest';
import { createSerialQueue } from './serial.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('serial queue', () => {
  it('runs work one at a time in the order asked, a failure not stopping the next', async () => {
    const q = createSerialQueue();
    const log: string[] = [];
    let running = 0;
    const job = (name: string, fail = false) =>
      q.run(async () => {
        running++;
        expect(running).toBe(1);
        log.push(`start ${name}`);
        await tick();
        log.push(`end ${name}`);
        running--;
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([job('a'), job('b', true), job('c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs a nested ask at once; work a run started that goes on after it ended queues again', async () => {
    const q = createSerialQueue();
    const log: string[] = [];
    let later: Promise<void> | undefined;
    await q.run(async () => {
      await q.run(async () => void log.push('nested'));
      // Started inside, runs on after the run ended: it must wait for the queue, not slip past it.
      later = tick().then(() => q.run(async () => void log.push('later')));
    });
    const next = q.run(async () => {
      log.push('next start');
      await tick();
      await tick();
      log.push('next end');
    });
    await Promise.all([later, next]);
    expect(log[0]).toBe('nested');
    const [i, start, end] = ['later', 'next start', 'next end'].map((x) => log.indexOf(x)) as [number, number, number];
    expect(i < start || i > end).toBe(true);
  });
});
