import { expect, it } from 'vitest';
import { openApiDocument } from './openapi.ts';

const op = (summary: string) => ({ summary, responses: { '200': { description: 'ok' } } });

it("joins two modules' methods of one path and keeps each module's schemas", () => {
  const doc = openApiDocument([
    { paths: { '/networks': { get: op('list') } } },
    {
      paths: { '/networks': { post: op('add') } },
      components: { schemas: { NetworkInput: { type: 'object' } } },
    },
  ]) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
  expect(Object.keys(doc.paths['/networks'] ?? {})).toEqual(['get', 'post']);
  expect(Object.keys(doc.components.schemas)).toEqual(['Error', 'NetworkInput']);
  expect(doc.paths['/openapi.json']).toBeDefined();
});

it('refuses an operation, a schema or a security scheme described twice', () => {
  expect(() =>
    openApiDocument([{ paths: { '/a': { get: op('one') } } }, { paths: { '/a': { get: op('two') } } }]),
  ).toThrow(/operation \/a get is described twice/);
  expect(() =>
    openApiDocument([
      { paths: {}, components: { schemas: { A: {} } } },
      { paths: {}, components: { schemas: { A: {} } } },
    ]),
  ).toThrow(/schema A is described twice/);
  expect(() => openApiDocument([{ paths: {}, components: { securitySchemes: { cookie: {} } } }])).toThrow(
    /security scheme cookie/,
  );
});

it('refuses a $ref to a schema no fragment gives', () => {
  const body = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Missing' } } } };
  expect(() => openApiDocument([{ paths: { '/a': { post: { ...op('a'), requestBody: body } } } }])).toThrow(
    /Missing names no schema/,
  );
});
