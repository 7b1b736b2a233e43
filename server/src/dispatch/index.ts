export { createDispatchRepo, type DispatchRepo, type WorkOrder } from './repo.ts';
export { createDispatchService, type AlertsPort, type DispatchService } from './service.ts';
export { dispatchRoutes, ORDER_UPLOAD_PATH } from './routes.ts';
export { localDate, nextPeriod, periodRange, periodStart, type Period, type StatsRange } from './stats.ts';
