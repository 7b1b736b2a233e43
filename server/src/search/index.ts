export { createSearchRepo, type SearchRepo } from './repo.ts';
export { createSearchService, type SearchService } from './service.ts';
export { placeSearchQuery, searchRoutes } from './routes.ts';
