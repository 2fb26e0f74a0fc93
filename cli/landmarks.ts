/**
 * The landmarks the CLI knows, in the order `milestones list` shows them.
 */
import type { Landmark } from '../src/run/index.js';
import { dqn } from '../papers/2013-dqn/train.js';
import { gpt } from '../papers/2019-gpt/train.js';
import { mlpMnist } from '../examples/mlp-mnist-run.js';
import { dropout } from '../papers/2012-dropout/train.js';
import { alexnet } from '../papers/2012-alexnet/train.js';
import { alexnetReluTanh } from '../papers/2012-alexnet/relu-tanh.js';

export const LANDMARKS: Landmark[] = [mlpMnist as unknown as Landmark, dqn as unknown as Landmark, gpt as unknown as Landmark, dropout as unknown as Landmark, alexnet as unknown as Landmark, alexnetReluTanh as unknown as Landmark];
