/**
 * Whether operations record the graph. On by default; `noGrad` turns it off for a block.
 */

let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

function withMode<T>(mode: boolean, fn: () => T): T {
  const before = enabled;
  enabled = mode;
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new Error('noGrad/enableGrad take a synchronous function; await inside it would leave the mode changed');
    }
    return result;
  } finally {
    enabled = before;
  }
}

/** Runs `fn` without recording the graph (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  return withMode(false, fn);
}

/** Runs `fn` with the graph recorded, even inside `noGrad` (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withMode(true, fn);
}

/** Sets the mode until changed again; returns the previous mode (torch.set_grad_enabled). */
export function setGradEnabled(mode: boolean): boolean {
  const before = enabled;
  enabled = mode;
  return before;
}
