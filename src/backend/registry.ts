/**
 * The backends this process knows, and the default device.
 */
import type { Backend } from './types.js';
import { referenceBackend } from './reference/index.js';
import { cpuBackend } from './cpu/index.js';

const backends = new Map<string, Backend>([['reference', referenceBackend as unknown as Backend]]);
if (cpuBackend) backends.set('cpu', cpuBackend as unknown as Backend);

export type Device = string;

// The native backend is what users run; the reference backend is the fallback when the addon
// could not be built (it says so once when it loads), or on request.
let defaultDevice: Device = process.env['MILESTONES_DEVICE'] ?? (backends.has('cpu') ? 'cpu' : 'reference');

export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

export function availableBackends(): string[] {
  return [...backends.keys()];
}

export function getBackend(device: Device): Backend {
  const b = backends.get(device);
  if (!b) {
    throw new Error(`unknown device '${device}' (available: ${availableBackends().join(', ')})`);
  }
  return b;
}

export function getDefaultDevice(): Device {
  if (!backends.has(defaultDevice)) {
    throw new Error(
      `MILESTONES_DEVICE names '${defaultDevice}', which is not available (available: ${availableBackends().join(', ')})`,
    );
  }
  return defaultDevice;
}

export function setDefaultDevice(device: Device): void {
  getBackend(device);
  defaultDevice = device;
}

/** One line on what runs underneath a backend, for `milestones info`. */
export function describeBackend(name: string): string {
  return getBackend(name).describe();
}
