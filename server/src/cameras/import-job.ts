/**
 * Runs a ledger import's parsing and schema checks in a worker thread (`import-worker.ts`) and hands the
 * results back in batches, so the event loop keeps serving everyone else meanwhile (issue 12, item 7).
 */
import { Worker } from 'node:worker_threads';
import type { ImportRowError } from '../api/contract.ts';
import type { ImportWorkerInput, ImportWorkerMessage, ParsedRow } from './import-worker.ts';

export type { ParsedRow } from './import-worker.ts';

export type LedgerParse =
  | {
      kind: 'parsed';
      encoding: string;
      total: number;
      headerBroken: boolean;
      columns: Record<string, string>;
      rows: ParsedRow[];
      errors: ImportRowError[];
    }
  | { kind: 'bad-encoding'; message: string };

const WORKER = new URL('./import-worker.ts', import.meta.url);

export function parseLedgerOffThread(input: ImportWorkerInput, timeoutMs = 120_000): Promise<LedgerParse> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: input });
    const rows: ParsedRow[] = [];
    const errors: ImportRowError[] = [];
    let settled = false;
    const finish = (err: Error | null, out?: LedgerParse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (err) reject(err);
      else resolve(out!);
    };
    const timer = setTimeout(() => finish(new Error(`import parsing took longer than ${timeoutMs} ms`)), timeoutMs);
    worker.on('message', (m: ImportWorkerMessage) => {
      if (m.kind === 'rows') for (const r of m.rows) rows.push(r);
      else if (m.kind === 'errors') for (const e of m.errors) errors.push(e);
      else if (m.kind === 'done') finish(null, { ...m, kind: 'parsed', rows, errors });
      else if (m.kind === 'bad-encoding') finish(null, m);
      else finish(new Error(`import worker: ${m.message}`));
    });
    worker.on('error', (err) => finish(err));
    worker.on('exit', (code) => finish(new Error(`import worker exited with code ${code} before it was done`)));
  });
}
