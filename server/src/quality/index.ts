export { createQualityRepo, type QualityRepo } from './repo.ts';
export { createQualityService, type QualityAlert, type QualityService } from './service.ts';
export { qualityRoutes } from './routes.ts';
export { qualityOpenApi } from './openapi.ts';
export { createPictureProbe, type OpenSource, type PictureProbe, type ProbeSource } from './probe.ts';
export { windowAt } from './windows.ts';
