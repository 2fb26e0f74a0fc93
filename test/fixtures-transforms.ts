/** A transform factory that DataLoader worker threads import by name in test/data-loader.test.ts. */
import { compose, randomCrop, randomHorizontalFlip, colorJitter, type Transform } from '../src/data/transforms.js';

export function cifarAugment(): Transform {
  return compose([randomCrop(32, { padding: 4 }), randomHorizontalFlip(), colorJitter({ brightness: 0.2 })]);
}
