export { createReportService, type ReportService } from './service.ts';
export { reportRoutes, reportQuery } from './routes.ts';
export { reportOpenApi } from './openapi.ts';
export { reportXlsx } from './xlsx.ts';
export { reportPdf } from './pdf.ts';
