/**
 * The point feed's Web Worker (issue 15): reads the feed's body, decodes it
 * and builds the cluster index off the page's main thread; see pointWorkerProtocol.ts for why and what it
 * answers. Started by pointLoader.ts with
 * `new Worker(new URL('./pointWorker.ts', import.meta.url), { type: 'module' })`.
 */
import { PointFeedWorker, type PointWorkerRequest } from './pointWorkerProtocol.ts';

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<PointWorkerRequest>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

const worker = new PointFeedWorker(({ reply, transfer }) => scope.postMessage(reply, transfer));

scope.onmessage = (e) => void worker.handle(e.data);
