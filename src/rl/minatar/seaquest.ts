/**
 * MinAtar Seaquest. The player's submarine shoots fish and enemy subs (+1 each), rescues divers,
 * and must surface before its oxygen runs out; surfacing with no diver aboard ends the episode,
 * surfacing with six gives a bonus of one point per remaining tenth of oxygen. Enemies speed up
 * with every surfacing. Only the sub's front cell collides with anything.
 *
 * Channels: 0 sub_front, 1 sub_back, 2 friendly_bullet, 3 trail, 4 enemy_bullet, 5 enemy_fish,
 * 6 enemy_sub, 7 oxygen_guage, 8 diver_guage, 9 diver (MinAtar's spelling of "gauge").
 *
 * Quirks kept from MinAtar (v1.0.15), as the research notes list them: the diver count goes
 * negative after a full surfacing (it is set to 0 and then decremented), and an enemy sub that
 * leaves the grid or is shot on its move still fires once that step.
 */
import type { WritableArrayLike } from '../env.js';
import { type RandomSource, randint } from '../random.js';
import { clearState, DOWN, FIRE, GRID, LEFT, type MinAtarGame, onGrid, RIGHT, setCell, UP } from './game.js';

const MAX_OXYGEN = 200;
const INIT_SPAWN_SPEED = 20;
const DIVER_SPAWN_SPEED = 30;
const INIT_MOVE_INTERVAL = 5;
const SHOT_COOL_DOWN = 5;
const ENEMY_SHOT_INTERVAL = 10;
const DIVER_MOVE_INTERVAL = 5;

/** A bullet (the player's or an enemy sub's); it moves one cell per step. */
export interface SeaquestBullet {
  x: number;
  y: number;
  dirRight: boolean;
}

/** A fish or a diver: moves one cell whenever its timer has run out. */
export interface SeaquestMover extends SeaquestBullet {
  moveTimer: number;
}

/** An enemy sub also fires on its own timer. */
export interface SeaquestEnemySub extends SeaquestMover {
  shotTimer: number;
}

export class Seaquest implements MinAtarGame {
  readonly channelNames = [
    'sub_front', 'sub_back', 'friendly_bullet', 'trail', 'enemy_bullet',
    'enemy_fish', 'enemy_sub', 'oxygen_guage', 'diver_guage', 'diver',
  ] as const;
  readonly minimalActions = [0, 1, 2, 3, 4, 5] as const;
  oxygen = MAX_OXYGEN;
  diverCount = 0;
  subX = 5;
  subY = 0;
  /** Facing right (true) or left (false). */
  subOr = false;
  fBullets: SeaquestBullet[] = [];
  eBullets: SeaquestBullet[] = [];
  eFish: SeaquestMover[] = [];
  eSubs: SeaquestEnemySub[] = [];
  divers: SeaquestMover[] = [];
  eSpawnSpeed = INIT_SPAWN_SPEED;
  eSpawnTimer = INIT_SPAWN_SPEED;
  dSpawnTimer = DIVER_SPAWN_SPEED;
  moveSpeed = INIT_MOVE_INTERVAL;
  ramp = 0;
  shotTimer = 0;
  /** The sub has been at the surface since it last surfaced (so staying there costs nothing). */
  surface = true;
  terminal = false;

  constructor(
    private readonly rng: RandomSource,
    private readonly ramping = true,
  ) {
    this.reset();
  }

  reset(): void {
    this.oxygen = MAX_OXYGEN;
    this.diverCount = 0;
    this.subX = 5;
    this.subY = 0;
    this.subOr = false;
    this.fBullets = [];
    this.eBullets = [];
    this.eFish = [];
    this.eSubs = [];
    this.divers = [];
    this.eSpawnSpeed = INIT_SPAWN_SPEED;
    this.eSpawnTimer = INIT_SPAWN_SPEED;
    this.dSpawnTimer = DIVER_SPAWN_SPEED;
    this.moveSpeed = INIT_MOVE_INTERVAL;
    this.ramp = 0;
    this.shotTimer = 0;
    this.surface = true;
    this.terminal = false;
  }

  rampIndex(): number {
    return this.ramp;
  }

  private atSub(o: { x: number; y: number }): boolean {
    return o.x === this.subX && o.y === this.subY;
  }

  act(action: number): number {
    if (this.terminal) return 0;
    let reward = 0;
    if (this.eSpawnTimer === 0) {
      this.spawnEnemy();
      this.eSpawnTimer = this.eSpawnSpeed;
    }
    if (this.dSpawnTimer === 0) {
      this.spawnDiver();
      this.dSpawnTimer = DIVER_SPAWN_SPEED;
    }

    // Firing and moving are exclusive; firing during the cooldown does nothing.
    if (action === FIRE) {
      if (this.shotTimer === 0) {
        this.fBullets.push({ x: this.subX, y: this.subY, dirRight: this.subOr });
        this.shotTimer = SHOT_COOL_DOWN;
      }
    } else if (action === LEFT) {
      this.subX = Math.max(0, this.subX - 1);
      this.subOr = false;
    } else if (action === RIGHT) {
      this.subX = Math.min(GRID - 1, this.subX + 1);
      this.subOr = true;
    } else if (action === UP) {
      this.subY = Math.max(0, this.subY - 1);
    } else if (action === DOWN) {
      this.subY = Math.min(GRID - 2, this.subY + 1); // row 9 holds the gauges
    }

    // Friendly bullets: move, then hit the first fish on the cell, else the first enemy sub.
    for (let i = this.fBullets.length - 1; i >= 0; i--) {
      const b = this.fBullets[i]!;
      b.x += b.dirRight ? 1 : -1;
      if (b.x < 0 || b.x >= GRID) {
        this.fBullets.splice(i, 1);
        continue;
      }
      const fish = this.eFish.findIndex((f) => f.x === b.x && f.y === b.y);
      if (fish >= 0) {
        this.eFish.splice(fish, 1);
        this.fBullets.splice(i, 1);
        reward += 1;
        continue;
      }
      const sub = this.eSubs.findIndex((s) => s.x === b.x && s.y === b.y);
      if (sub >= 0) {
        this.eSubs.splice(sub, 1);
        this.fBullets.splice(i, 1);
        reward += 1;
      }
    }

    // Divers: picked up on contact while fewer than six are aboard; move every 6 steps.
    for (let i = this.divers.length - 1; i >= 0; i--) {
      const d = this.divers[i]!;
      if (this.atSub(d) && this.diverCount < 6) {
        this.divers.splice(i, 1);
        this.diverCount += 1;
      } else if (d.moveTimer === 0) {
        d.moveTimer = DIVER_MOVE_INTERVAL;
        d.x += d.dirRight ? 1 : -1;
        if (d.x < 0 || d.x >= GRID) {
          this.divers.splice(i, 1);
        } else if (this.atSub(d) && this.diverCount < 6) {
          this.divers.splice(i, 1);
          this.diverCount += 1;
        }
      } else {
        d.moveTimer -= 1;
      }
    }

    // Enemy subs: collide, move, get shot; then fire on their own timer whatever happened to them.
    for (let i = this.eSubs.length - 1; i >= 0; i--) {
      const s = this.eSubs[i]!;
      if (this.atSub(s)) this.terminal = true;
      if (s.moveTimer === 0) {
        s.moveTimer = this.moveSpeed;
        s.x += s.dirRight ? 1 : -1;
        if (s.x < 0 || s.x >= GRID) {
          this.eSubs.splice(i, 1);
        } else if (this.atSub(s)) {
          this.terminal = true;
        } else {
          reward += this.shotBy(s, () => this.eSubs.splice(i, 1));
        }
      } else {
        s.moveTimer -= 1;
      }
      if (s.shotTimer === 0) {
        s.shotTimer = ENEMY_SHOT_INTERVAL;
        this.eBullets.push({ x: s.x, y: s.y, dirRight: s.dirRight });
      } else {
        s.shotTimer -= 1;
      }
    }

    // Enemy bullets: hit the player before or after moving.
    for (let i = this.eBullets.length - 1; i >= 0; i--) {
      const b = this.eBullets[i]!;
      if (this.atSub(b)) this.terminal = true;
      b.x += b.dirRight ? 1 : -1;
      if (b.x < 0 || b.x >= GRID) this.eBullets.splice(i, 1);
      else if (this.atSub(b)) this.terminal = true;
    }

    // Fish: as enemy subs, without shooting.
    for (let i = this.eFish.length - 1; i >= 0; i--) {
      const f = this.eFish[i]!;
      if (this.atSub(f)) this.terminal = true;
      if (f.moveTimer === 0) {
        f.moveTimer = this.moveSpeed;
        f.x += f.dirRight ? 1 : -1;
        if (f.x < 0 || f.x >= GRID) {
          this.eFish.splice(i, 1);
        } else if (this.atSub(f)) {
          this.terminal = true;
        } else {
          reward += this.shotBy(f, () => this.eFish.splice(i, 1));
        }
      } else {
        f.moveTimer -= 1;
      }
    }

    if (this.eSpawnTimer > 0) this.eSpawnTimer -= 1;
    if (this.dSpawnTimer > 0) this.dSpawnTimer -= 1;
    if (this.shotTimer > 0) this.shotTimer -= 1;

    // Oxygen is checked before this step's use, so the 201st step in a row under water ends the episode.
    if (this.oxygen <= 0) this.terminal = true;
    if (this.subY > 0) {
      this.oxygen -= 1;
      this.surface = false;
    } else if (!this.surface) {
      if (this.diverCount === 0) this.terminal = true;
      else reward += this.surfaceSub();
    }
    return reward;
  }

  /** If a friendly bullet (the first in list order) is on the enemy's cell, removes both and scores 1. */
  private shotBy(enemy: { x: number; y: number }, removeEnemy: () => void): number {
    const b = this.fBullets.findIndex((f) => f.x === enemy.x && f.y === enemy.y);
    if (b < 0) return 0;
    this.fBullets.splice(b, 1);
    removeEnemy();
    return 1;
  }

  /** Surfacing: refill oxygen, score a full load of divers, speed the enemies up. */
  private surfaceSub(): number {
    this.surface = true;
    let reward = 0;
    if (this.diverCount === 6) {
      this.diverCount = 0;
      reward = Math.floor((this.oxygen * 10) / MAX_OXYGEN);
    }
    this.oxygen = MAX_OXYGEN;
    this.diverCount -= 1; // unconditional, as in MinAtar: a full surfacing leaves -1
    if (this.ramping && (this.eSpawnSpeed > 1 || this.moveSpeed > 2)) {
      if (this.moveSpeed > 2 && this.ramp % 2 === 1) this.moveSpeed -= 1;
      if (this.eSpawnSpeed > 1) this.eSpawnSpeed -= 1;
      this.ramp += 1;
    }
    return reward;
  }

  /** Direction, kind, row; nothing spawns if an enemy on that row travels the other way. */
  private spawnEnemy(): void {
    const dirRight = this.rng.random() < 1 / 2;
    const isSub = this.rng.random() < 1 / 3;
    const y = randint(this.rng, 1, 9);
    const x = dirRight ? 0 : GRID - 1;
    const blocked = [...this.eSubs, ...this.eFish].some((e) => e.y === y && e.dirRight !== dirRight);
    if (blocked) return;
    if (isSub) this.eSubs.push({ x, y, dirRight, moveTimer: this.moveSpeed, shotTimer: ENEMY_SHOT_INTERVAL });
    else this.eFish.push({ x, y, dirRight, moveTimer: this.moveSpeed });
  }

  private spawnDiver(): void {
    const dirRight = this.rng.random() < 1 / 2;
    const y = randint(this.rng, 1, 9);
    this.divers.push({ x: dirRight ? 0 : GRID - 1, y, dirRight, moveTimer: DIVER_MOVE_INTERVAL });
  }

  writeState(out: WritableArrayLike, offset: number): void {
    clearState(out, offset, 10);
    setCell(out, offset, 0, this.subY, this.subX);
    const backX = this.subOr ? this.subX - 1 : this.subX + 1;
    if (onGrid(this.subY, backX)) setCell(out, offset, 1, this.subY, backX);
    for (const b of this.fBullets) setCell(out, offset, 2, b.y, b.x);
    for (const b of this.eBullets) setCell(out, offset, 4, b.y, b.x);
    const trail = (o: SeaquestMover) => {
      const back = o.dirRight ? o.x - 1 : o.x + 1;
      if (onGrid(o.y, back)) setCell(out, offset, 3, o.y, back);
    };
    for (const f of this.eFish) {
      setCell(out, offset, 5, f.y, f.x);
      trail(f);
    }
    for (const s of this.eSubs) {
      setCell(out, offset, 6, s.y, s.x);
      trail(s);
    }
    for (const d of this.divers) {
      setCell(out, offset, 9, d.y, d.x);
      trail(d);
    }
    const oxygenCells = Math.floor((Math.max(0, this.oxygen) * 10) / MAX_OXYGEN);
    for (let col = 0; col < oxygenCells; col++) setCell(out, offset, 7, GRID - 1, col);
    for (let col = GRID - 1 - this.diverCount; col < GRID - 1; col++) setCell(out, offset, 8, GRID - 1, col);
  }
}
