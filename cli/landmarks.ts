/**
 * The landmarks the CLI knows, in the order `milestones list` shows them.
 */
import type { Landmark } from '../src/run/index.js';

export const LANDMARKS: Landmark[] = [];
