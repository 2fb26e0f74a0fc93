/**
 * MinAtar Asterix. The player moves on rows 1..8; each of those rows holds at most one entity,
 * an enemy or a piece of gold, travelling left or right. Gold gives +1; touching an enemy ends
 * the episode. Spawning and movement speed up every 102 steps (the difficulty ramp).
 *
 * Channels: 0 player, 1 enemy, 2 trail, 3 gold.
 */
import type { WritableArrayLike } from '../env.js';
import { type RandomSource, randint } from '../random.js';
import { clearState, DOWN, GRID, LEFT, type MinAtarGame, RIGHT, setCell, UP } from './game.js';

const RAMP_INTERVAL = 100;
const INIT_SPAWN_SPEED = 10;
const INIT_MOVE_INTERVAL = 5;

/** An enemy or gold on row `slot + 1`. */
export interface AsterixEntity {
  x: number;
  movingRight: boolean;
  isGold: boolean;
}

export class Asterix implements MinAtarGame {
  readonly channelNames = ['player', 'enemy', 'trail', 'gold'] as const;
  readonly minimalActions = [0, 1, 2, 3, 4] as const;
  playerX = 5;
  playerY = 5;
  /** Slot i lives on row i + 1; null when empty. */
  entities: (AsterixEntity | null)[] = [];
  spawnSpeed = INIT_SPAWN_SPEED;
  spawnTimer = INIT_SPAWN_SPEED;
  moveSpeed = INIT_MOVE_INTERVAL;
  moveTimer = INIT_MOVE_INTERVAL;
  rampTimer = RAMP_INTERVAL;
  ramp = 0;
  terminal = false;

  constructor(
    private readonly rng: RandomSource,
    private readonly ramping = true,
  ) {
    this.reset();
  }

  reset(): void {
    this.playerX = 5;
    this.playerY = 5;
    this.entities = new Array<AsterixEntity | null>(8).fill(null);
    this.spawnSpeed = INIT_SPAWN_SPEED;
    this.spawnTimer = INIT_SPAWN_SPEED;
    this.moveSpeed = INIT_MOVE_INTERVAL;
    this.moveTimer = INIT_MOVE_INTERVAL;
    this.rampTimer = RAMP_INTERVAL;
    this.ramp = 0;
    this.terminal = false;
  }

  rampIndex(): number {
    return this.ramp;
  }

  act(action: number): number {
    if (this.terminal) return 0;
    let reward = 0;
    // Spawn when the countdown reaches 0, then restart it at the current spawn speed.
    if (this.spawnTimer === 0) {
      this.spawnEntity();
      this.spawnTimer = this.spawnSpeed;
    }
    if (action === LEFT) this.playerX = Math.max(0, this.playerX - 1);
    else if (action === RIGHT) this.playerX = Math.min(GRID - 1, this.playerX + 1);
    else if (action === UP) this.playerY = Math.max(1, this.playerY - 1);
    else if (action === DOWN) this.playerY = Math.min(8, this.playerY + 1);
    reward += this.collide();
    if (this.moveTimer === 0) {
      this.moveTimer = this.moveSpeed;
      for (let slot = 0; slot < this.entities.length; slot++) {
        const e = this.entities[slot];
        if (!e) continue;
        e.x += e.movingRight ? 1 : -1;
        if (e.x < 0 || e.x >= GRID) this.entities[slot] = null;
      }
      reward += this.collide();
    }
    this.spawnTimer -= 1;
    this.moveTimer -= 1;
    if (this.ramping && (this.spawnSpeed > 1 || this.moveSpeed > 1)) {
      if (this.rampTimer >= 0) {
        this.rampTimer -= 1;
      } else {
        if (this.moveSpeed > 1 && this.ramp % 2 === 1) this.moveSpeed -= 1;
        if (this.spawnSpeed > 1) this.spawnSpeed -= 1;
        this.ramp += 1;
        this.rampTimer = RAMP_INTERVAL;
      }
    }
    return reward;
  }

  /** Gold on the player's cell is collected (+1); an enemy there ends the episode but stays. */
  private collide(): number {
    const slot = this.playerY - 1;
    const e = this.entities[slot];
    if (!e || e.x !== this.playerX) return 0;
    if (e.isGold) {
      this.entities[slot] = null;
      return 1;
    }
    this.terminal = true;
    return 0;
  }

  /** Direction first, then kind, then (only if a slot is free) which free slot. */
  private spawnEntity(): void {
    const movingRight = this.rng.random() < 1 / 2;
    const isGold = this.rng.random() < 1 / 3;
    const free: number[] = [];
    for (let slot = 0; slot < this.entities.length; slot++) if (!this.entities[slot]) free.push(slot);
    if (free.length === 0) return;
    const slot = free[randint(this.rng, 0, free.length)]!;
    this.entities[slot] = { x: movingRight ? 0 : GRID - 1, movingRight, isGold };
  }

  writeState(out: WritableArrayLike, offset: number): void {
    clearState(out, offset, 4);
    setCell(out, offset, 0, this.playerY, this.playerX);
    for (let slot = 0; slot < this.entities.length; slot++) {
      const e = this.entities[slot];
      if (!e) continue;
      const row = slot + 1;
      setCell(out, offset, e.isGold ? 3 : 1, row, e.x);
      // The trail marks the cell behind the entity's direction of travel.
      const back = e.movingRight ? e.x - 1 : e.x + 1;
      if (back >= 0 && back < GRID) setCell(out, offset, 2, row, back);
    }
  }
}
