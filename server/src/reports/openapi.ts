/** The reports module's part of the OpenAPI document. */
import { z } from 'zod';
import { reportQuery } from './routes.ts';

type Json = Record<string, unknown>;
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );

function queryParams(s: z.ZodType): Json[] {
  const js = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(js.properties ?? {}).map(([name, sch]) => ({
    name,
    in: 'query',
    required: js.required?.includes(name) ?? false,
    schema: sch,
  }));
}

export function reportOpenApiPaths(): Json {
  const parameters = queryParams(reportQuery);
  return {
    '/reports': {
      get: {
        summary:
          "报表: one unit's day/week/month/quarter (UTC+8 by default): online rate and 完好率 from the daily snapshots, faults by kind, alerts by type/level/unit, work orders (the dashboard's figures), and a 12-period trend; `orgUnitId` outside your jurisdiction is 403",
        parameters,
        responses: { '200': { description: 'ReportView' }, ...errors(400, 401, 403) },
      },
    },
    '/reports.xlsx': {
      get: {
        summary: 'The same report as an Excel workbook: every figure a number cell (audited)',
        parameters,
        responses: {
          '200': { description: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
          ...errors(400, 401, 403),
        },
      },
    },
    '/reports.pdf': {
      get: {
        summary: 'The same report as a printable A4 PDF (audited); 503 without a CJK font configured',
        parameters,
        responses: { '200': { description: 'application/pdf' }, ...errors(400, 401, 403, 503) },
      },
    },
  };
}
