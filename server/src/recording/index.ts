export { createRecordingRepo, type RecordPlan, type RecordingRepo } from './repo.ts';
export { createRecordingService, inSchedule, spansOf, vodPlaylist, type RecordingService } from './service.ts';
export { recordingFileRoutes, recordingRoutes } from './routes.ts';
export { streamsRecordingEngine, type RecordingEngine } from './engine.ts';
export { recordingOpenApiPaths } from './openapi.ts';
export { createDevicePlayback, isDeviceTicket, type DevicePlayback } from './device.ts';
