/**
 * The landmarks the CLI knows, in the order `milestones list` shows them.
 */
import type { Landmark } from '../src/run/index.js';
import { mlpMnist } from '../examples/mlp-mnist-run.js';
import { alexnet } from '../papers/2012-alexnet/train.js';
import { alexnetReluTanh } from '../papers/2012-alexnet/relu-tanh.js';
import { dropout } from '../papers/2012-dropout/train.js';
import { dqn } from '../papers/2013-dqn/train.js';
import { gpt } from '../papers/2019-gpt/train.js';

/**
 * Each landmark has its own config type; the CLI only ever hands a landmark a config resolved from
 * that landmark's own spec, so the list can hold them side by side.
 */
export const LANDMARKS: readonly Landmark<any>[] = [mlpMnist, alexnet, alexnetReluTanh, dropout, dqn, gpt];
