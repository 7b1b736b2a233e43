export { createRecordingRepo, type RecordPlan, type RecordingRepo } from './repo.ts';
export { createRecordingService, inSchedule, type RecordingService } from './service.ts';
export { createPlaybackService, spansOf, vodPlaylist, type PlaybackService } from './playback.service.ts';
export { recordingFileRoutes, recordingRoutes } from './routes.ts';
export { streamsRecordingEngine, type RecordingEngine } from './engine.ts';
export { recordingOpenApi } from './openapi.ts';
export { createDevicePlayback, type DevicePlayback } from './device.ts';
export { isDeviceTicket } from './ticket.ts';
