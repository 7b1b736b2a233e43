export { createMetrics, countAlert, type Metrics, type MetricsOptions, type SocketServerView } from './metrics.ts';
export { httpMetrics, routePattern } from './http.ts';
export { metricsRoutes, checkMetricsAccess, isLoopback, METRICS_PATH } from './routes.ts';
