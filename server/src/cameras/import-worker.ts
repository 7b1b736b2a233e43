/**
 * A ledger import's CPU-heavy half, in a worker thread (issue 12, item 7: a 200,000-row CSV held the event
 * loop for seconds, and /health/live with every other user of the county waited): decoding, CSV parsing, the
 * ledger's column checks and the point schema. What needs the registry (jurisdiction, duplicate codes, the
 * sealing key, the write) stays with the main thread, which takes the rows in batches.
 *
 * Messages out: `{ kind: 'rows', rows }` and `{ kind: 'errors', errors }` in batches, then `{ kind: 'done', … }`
 * or `{ kind: 'failed', message }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ImportRowError } from '../api/contract.ts';
import { decodeText } from '../csv/csv.ts';
import { zodFields } from '../http/errors.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';
import { parseLedger } from './ledger.ts';
import type { Network } from './networks.ts';
import { cameraCreateSchema, type CameraCreate } from './schema.ts';

export interface ImportWorkerInput {
  body: Uint8Array;
  encoding: string | undefined;
  networks: Network[];
  orgs: OrgUnit[];
  maxRows: number;
}

export interface ParsedRow {
  line: number;
  data: CameraCreate;
}

export type ImportWorkerMessage =
  | { kind: 'rows'; rows: ParsedRow[] }
  | { kind: 'errors'; errors: ImportRowError[] }
  | {
      kind: 'done';
      encoding: string;
      /** Data rows in the file (good and bad). */
      total: number;
      /** The header (or the file) is unusable: no row was judged. */
      headerBroken: boolean;
      /** API field path → the file's own column name, for errors found later. */
      columns: Record<string, string>;
    }
  | { kind: 'bad-encoding'; message: string }
  | { kind: 'failed'; message: string };

/** Every path a later check may name; their column names are sent once instead of a function per row. */
const PATHS = [
  'code',
  'name',
  'networkId',
  'orgUnitId',
  'position',
  'position.lon',
  'position.lat',
  'position.system',
  'address',
  'direction',
  'fov',
  'onvifUrl',
  'credentials',
  'credentials.username',
  'credentials.password',
  'mainStreamUri',
  'subStreamUri',
  'ptz',
  'rtspTransport',
];

/** Rows per message: small enough that the main thread's structured clone of one batch takes a few ms. */
const BATCH = 1_000;

function run(input: ImportWorkerInput, post: (m: ImportWorkerMessage) => void): void {
  let decoded;
  try {
    decoded = decodeText(input.body, input.encoding);
  } catch (err) {
    post({ kind: 'bad-encoding', message: (err as Error).message });
    return;
  }
  const byCode = new Map(input.orgs.map((o) => [o.code, o]));
  // The ledger only looks org units up; it never writes.
  const orgs: OrgRepo = {
    load: () => Promise.resolve(),
    all: () => input.orgs,
    byId: (id) => input.orgs.find((o) => o.id === id),
    byCode: (code) => byCode.get(code),
    insert: () => {
      throw new Error('read-only org tree in the import worker');
    },
  };
  const parsed = parseLedger(decoded.text, { networks: input.networks, orgs, maxRows: input.maxRows });
  const total = parsed.rows.length + new Set(parsed.errors.map((e) => e.line)).size;
  const headerBroken = parsed.rows.length === 0 && parsed.errors.some((e) => e.line === 1 || e.field === 'row');
  const columnOf = parsed.rows[0]?.columnOf ?? ((p: string) => p);
  const columns = Object.fromEntries(PATHS.map((p) => [p, columnOf(p)]));
  for (let i = 0; i < parsed.errors.length; i += BATCH) {
    post({ kind: 'errors', errors: parsed.errors.slice(i, i + BATCH) });
  }
  let rows: ParsedRow[] = [];
  let errors: ImportRowError[] = [];
  for (const row of parsed.rows) {
    const r = cameraCreateSchema.safeParse(row.input);
    if (r.success) rows.push({ line: row.line, data: r.data });
    else {
      for (const f of zodFields(r.error))
        errors.push({
          line: row.line,
          field: row.columnOf(f.path),
          message: f.message,
          ...(f.code ? { code: f.code } : {}),
          ...(f.params ? { params: f.params } : {}),
        });
    }
    if (rows.length >= BATCH) {
      post({ kind: 'rows', rows });
      rows = [];
    }
    if (errors.length >= BATCH) {
      post({ kind: 'errors', errors });
      errors = [];
    }
  }
  if (rows.length) post({ kind: 'rows', rows });
  if (errors.length) post({ kind: 'errors', errors });
  post({ kind: 'done', encoding: decoded.encoding, total, headerBroken, columns });
}

if (parentPort) {
  const port = parentPort;
  try {
    run(workerData as ImportWorkerInput, (m) => port.postMessage(m));
  } catch (err) {
    port.postMessage({ kind: 'failed', message: String((err as Error).message ?? err) } satisfies ImportWorkerMessage);
  }
}
