/**
 * What the CLI needs from a paper folder to list it, run it, resume it and, for generative models,
 * sample from a trained run.
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
  /**
   * Generates from the model saved in a run's checkpoint (`milestones sample <name> --run DIR`),
   * handing each piece of output to `write` as soon as it exists. Only generative landmarks have it.
   */
  sample?(run: Run<C>, options: SampleOptions, write: (text: string) => void): Promise<void>;
}

/** What `milestones sample` passes to a landmark. */
export interface SampleOptions {
  /** The text the generated continuation follows ('' starts from the model's own start). */
  prompt: string;
  /** How many new tokens to generate. */
  tokens: number;
  /** Divides the logits: below 1 sharpens, above 1 flattens; 0 picks the most likely token. */
  temperature: number;
  /** Sample only among the k most likely tokens (0: all). */
  topK: number;
  /** Nucleus sampling: only the most likely tokens whose probabilities add up to p (1: all). */
  topP: number;
  /** Seed of the sampling generator, so a sample can be drawn again. */
  seed: number;
}
