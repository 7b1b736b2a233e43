/** The reports module's part of the OpenAPI document. */
import { plainErrors, queryParams, type OpenApiFragment } from '../http/openapi-parts.ts';
import { reportQuery } from './routes.ts';

export function reportOpenApi(): OpenApiFragment {
  const parameters = queryParams(reportQuery);
  return {
    paths: {
      '/reports': {
        get: {
          summary:
            "报表: one unit's day/week/month/quarter (UTC+8 by default): online rate and 完好率 from the daily snapshots, faults by kind, alerts by type/level/unit, work orders (the dashboard's figures), and a 12-period trend; `orgUnitId` outside your jurisdiction is 403",
          parameters,
          responses: { '200': { description: 'ReportView' }, ...plainErrors(400, 401, 403) },
        },
      },
      '/reports.xlsx': {
        get: {
          summary: 'The same report as an Excel workbook: every figure a number cell (audited)',
          parameters,
          responses: {
            '200': { description: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
            ...plainErrors(400, 401, 403),
          },
        },
      },
      '/reports.pdf': {
        get: {
          summary: 'The same report as a printable A4 PDF (audited); 503 without a CJK font configured',
          parameters,
          responses: { '200': { description: 'application/pdf' }, ...plainErrors(400, 401, 403, 503) },
        },
      },
    },
  };
}
