/**
 * Every API route the server answers is in the OpenAPI document it serves, with its method, and the
 * document names no route that does not exist. Issue 11 found `GET /orders/{id}/attachments/{aid}`
 * served but undocumented; this walks the real router so a new route cannot be forgotten.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ cameras: 2 });
});
afterAll(async () => t?.close());

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** method + OpenAPI-style path of every route under a router, nested routers included. */
function routes(stack: Layer[]): string[] {
  const out: string[] = [];
  for (const l of stack) {
    if (l.route) {
      for (const p of Array.isArray(l.route.path) ? l.route.path : [l.route.path])
        for (const m of Object.keys(l.route.methods)) out.push(`${m.toUpperCase()} ${p.replace(/:(\w+)/g, '{$1}')}`);
    } else if (l.handle?.stack) out.push(...routes(l.handle.stack));
  }
  return out;
}

it('documents every API route and no route that does not exist', async () => {
  const app = t.server.app.app as unknown as { router: { stack: Layer[] } };
  // The API router is the one that serves the document itself.
  const api = app.router.stack.find((l) => l.handle?.stack && routes(l.handle.stack).includes('GET /openapi.json'));
  expect(api).toBeDefined();
  const served = new Set(routes(api!.handle!.stack!));
  const doc = (await (await fetch(`${t.api}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops)
        .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => `${m.toUpperCase()} ${p}`),
    ),
  );
  expect([...served].filter((r) => !documented.has(r)).sort()).toEqual([]);
  expect([...documented].filter((r) => !served.has(r)).sort()).toEqual([]);
  expect(served.has('GET /orders/{id}/attachments/{aid}')).toBe(true);
});
