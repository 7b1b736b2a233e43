export { createIngestService, type IngestService, type PushState } from './service.ts';
export { ingestRoutes } from './routes.ts';
export { startRtmpIngest, type RtmpIngest } from './rtmp-server.ts';
