/**
 * A DataLoader worker thread: rebuilds the dataset from its recipe, then loads, augments and
 * collates the batches it is asked for, sending tensors back without copying.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Generator } from '../tensor/index.js';
import { pack } from '../io/transfer.js';
import { defaultCollate } from './collate.js';
import type { DatasetRecipe } from './dataloader.js';
import { exampleSeed } from './dataloader.js';
import type { Dataset } from './dataset.js';

const { recipe, collateInWorker } = workerData as { recipe: DatasetRecipe; collateInWorker: boolean };
const mod = (await import(recipe.module)) as Record<string, (...args: unknown[]) => Dataset<unknown> | Promise<Dataset<unknown>>>;
const factory = mod[recipe.factory];
if (typeof factory !== 'function') throw new Error(`DataLoader worker: ${recipe.module} exports no function '${recipe.factory}'`);
const dataset = await factory(...(recipe.args ?? []));

parentPort!.on('message', (m: { id: number; indices: number[]; epochSeed: number }) => {
  try {
    const items = m.indices.map((i) => dataset.get(i, new Generator(exampleSeed(m.epochSeed, i))));
    const { packed, transfer } = pack(collateInWorker ? defaultCollate(items) : items);
    parentPort!.postMessage({ id: m.id, packed }, transfer);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
