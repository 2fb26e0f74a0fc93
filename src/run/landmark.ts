/**
 * What the CLI needs from a paper folder to list it, run it and resume it.
 */
import type { Config, ConfigSpec } from './config.js';
import type { Run } from './run.js';

export interface Landmark<C extends Config = Config> {
  /** The CLI name: `milestones run <name>`. */
  name: string;
  /** The paper, e.g. "Dropout (Srivastava et al. 2014)". */
  title: string;
  spec: ConfigSpec<C>;
  /**
   * Trains (or, when the run directory holds a checkpoint, resumes) and records metrics,
   * results and samples in the run. Returns when done or when `run.stopRequested` is set, having
   * checkpointed.
   */
  train(run: Run<C>): Promise<void>;
}
