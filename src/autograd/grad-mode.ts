let enabled = true;

/**
 * Whether ops currently record the graph (false inside {@link noGrad}).
 * @example
 * isGradEnabled(); // true
 * noGrad(() => isGradEnabled()); // false
 */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Run fn with graph recording set to `on`, restoring the previous mode afterwards (also on throw). */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/**
 * Run fn without recording the graph (like `torch.no_grad()`); returns what fn returns.
 * @example
 * const out = noGrad(() => model.forward(x)); // out.requiresGrad === false
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/**
 * Run fn with graph recording on, even inside {@link noGrad}; returns what fn returns.
 * @example
 * noGrad(() => enableGrad(() => x.mul(2))).requiresGrad; // true
 */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
