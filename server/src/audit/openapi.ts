/** The audit log's part of the OpenAPI document, from the schemas that validate its queries. */
import { errors, queryParams, type OpenApiFragment } from '../http/openapi-parts.ts';
import { auditExportQuerySchema, auditQuerySchema } from './routes.ts';

export function auditOpenApi(): OpenApiFragment {
  return {
    paths: {
      '/audit': {
        get: {
          summary:
            'Audit log, newest first (admins): entries of accounts in your jurisdiction (an admin at the root of the org tree reads all, anonymous callers included); filters action (or a family `camera.*`), outcome, user, targetType, targetId, from, to',
          parameters: queryParams(auditQuerySchema),
          responses: { '200': { description: 'Page<AuditEntry>' }, ...errors(400, 401, 403) },
        },
      },
      '/audit/export.csv': {
        get: {
          summary: 'The audit log with the same filters as CSV (UTF-8 with BOM, at most 50,000 rows); audited',
          parameters: queryParams(auditExportQuerySchema),
          responses: { '200': { description: 'CSV', content: { 'text/csv': {} } }, ...errors(400, 401, 403) },
        },
      },
    },
  };
}
