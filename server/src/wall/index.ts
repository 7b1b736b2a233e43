export { createWallRepo, screenView, type WallRepo, type WallScreen } from './repo.ts';
export { createWallService, type WallService } from './service.ts';
export { wallRoutes } from './routes.ts';
export { GRID_TILES, wallLayoutSchema } from './layout.ts';
