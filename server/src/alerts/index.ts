export { createAlertRepo, type Alert, type AlertRepo, type AlertSource } from './repo.ts';
export { createAlertService, type AlertMedia, type AlertService } from './service.ts';
export { hashDeviceKey } from './device-keys.ts';
export { alertRoutes, ingestBodyParser } from './routes.ts';
export { createAlertList, type AlertList } from './list.ts';
export { alertFacts, type AlertFact } from './stats.ts';
export { rankLinkedCameras, pointInGeometry, bearingDeg } from './geometry.ts';
export { createOnvifEventSource, type OnvifEventSource } from './onvif-events.ts';
export { createMqttAlertSource, topicMatches, type MqttAlertSource } from './mqtt.ts';
