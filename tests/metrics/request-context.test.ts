/**
 * Issue 13: every log line written while a request is answered carries its id, not only the request line; work
 * the request started that outlives its answer does not.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/http/logger.ts';
import { requestLog } from '../../server/src/http/request-log.ts';

const lines: Array<Record<string, unknown>> = [];
const log = createLogger('debug', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
let server: ReturnType<ReturnType<typeof express>['listen']>;
let base: string;
let later: Promise<void> = Promise.resolve();

beforeAll(async () => {
  const app = express();
  app.use(requestLog(log));
  app.get('/work', async (_req, res) => {
    log.info('before an await');
    await new Promise((r) => setTimeout(r, 5));
    log.warn('after an await', { step: 2 });
    later = new Promise((resolve) =>
      setTimeout(() => {
        log.info('after the answer');
        resolve();
      }, 50),
    );
    res.json({ ok: true });
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('request context in the logs', () => {
  it('lines written while a request is answered carry its id; concurrent requests keep theirs', async () => {
    const ids = ['req-a', 'req-b', 'req-c'];
    await Promise.all(
      ids.map((id) => fetch(`${base}/work`, { headers: { 'x-request-id': id } }).then((r) => r.text())),
    );
    await later;
    await new Promise((r) => setTimeout(r, 100));
    for (const id of ids) {
      const mine = lines.filter((l) => l['requestId'] === id).map((l) => l['msg']);
      expect(mine).toEqual(expect.arrayContaining(['before an await', 'after an await', 'request']));
      expect(mine).toHaveLength(3);
    }
    // Lines written with no request (start-up, timers) and after the answer carry none.
    log.info('no request here');
    const after = lines.filter((l) => l['msg'] === 'after the answer');
    expect(after).toHaveLength(3);
    expect(after.every((l) => l['requestId'] === undefined)).toBe(true);
    expect(lines.at(-1)).not.toHaveProperty('requestId');
  });
});
