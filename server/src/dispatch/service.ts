/**
 * Dispatch's service, assembled from its parts: orders and their steps
 * (orders.ts), evidence files (attachments.ts), statistics (stats.ts), the
 * deadline pass (deadlines.ts) and wall pushes (pushes.ts), over what they
 * share (core.ts). Callers see one service, as before.
 */
import { createAttachments } from './attachments.ts';
import { createOrderCore, type DispatchDeps } from './core.ts';
import { createDeadlines } from './deadlines.ts';
import { createOrders } from './orders.ts';
import { createWallPushes } from './pushes.ts';
import { createOrderStats } from './stats.ts';

export type { AlertsPort, DispatchDeps } from './core.ts';
export {
  createSchema,
  listQuery,
  pushSchema,
  STEP_ACTIONS,
  statsQuery,
  stepSchema,
  type StepAction,
} from './schema.ts';

export function createDispatchService(deps: DispatchDeps) {
  const core = createOrderCore(deps);
  return {
    toView: core.toView,
    ...createOrders(deps, core),
    ...createAttachments(deps, core),
    stats: createOrderStats(deps),
    ...createDeadlines(deps, core),
    ...createWallPushes(deps),
  };
}

export type DispatchService = ReturnType<typeof createDispatchService>;
