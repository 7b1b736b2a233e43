/** The alert list's part of the OpenAPI document (issue 17): search and export, from the schemas that validate them. */
import { z } from 'zod';
import { alertExportQuery, alertSearchQuery } from './schema.ts';

type Json = Record<string, unknown>;

const schema = (s: z.ZodType): Json => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );

function queryParams(s: z.ZodType): Json[] {
  const js = schema(s) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, sch]) => ({
    name,
    in: 'query',
    required: js.required?.includes(name) ?? false,
    schema: sch,
  }));
}

export function alertListOpenApiPaths(): Json {
  return {
    '/alerts/search': {
      get: {
        summary:
          'Alerts of your jurisdiction, newest first: by level, type and status (comma lists), place (`org`: a unit and all below it; 403 outside your jurisdiction), time (active in [from, to]) and text (title, description or number); `total` counts the whole selection',
        parameters: queryParams(alertSearchQuery),
        responses: {
          '200': { description: 'Page<AlertView> with total', content: { 'application/json': {} } },
          ...errors(400, 401, 403),
        },
      },
    },
    '/alerts/export.csv': {
      get: {
        summary:
          'The same selection as CSV (UTF-8 with BOM, formula cells defused, times in the dispatch UTC offset), every row; audited as alert.export',
        parameters: queryParams(alertExportQuery),
        responses: { '200': { description: 'text/csv' }, ...errors(400, 401, 403) },
      },
    },
  };
}
