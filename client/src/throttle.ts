/**
 * Runs `fn` at most once per `ms`: the first call runs at once, calls within
 * the window collapse into one trailing run at its end. Status events can
 * arrive by the hundred when a whole network drops; this keeps the refetches few.
 */
export function throttle(fn: () => void, ms: number): { call: () => void; cancel: () => void } {
  let last = -Infinity;
  let timer: number | undefined;
  const run = () => {
    timer = undefined;
    last = Date.now();
    fn();
  };
  return {
    call() {
      if (timer !== undefined) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) run();
      else timer = window.setTimeout(run, wait);
    },
    cancel() {
      window.clearTimeout(timer);
      timer = undefined;
    },
  };
}
