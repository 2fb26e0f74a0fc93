/**
 * MinAtar Space Invaders. A cannon on the bottom row shoots up at a 4 x 6 block of aliens that
 * sweeps sideways, stepping down a row at each edge, and drops bullets. +1 per alien; the episode
 * ends when an enemy bullet or an alien reaches the cannon, or the block must step down from row 9.
 * Each cleared wave respawns the block and, while the ramp lasts, makes it move faster.
 *
 * Channels: 0 cannon, 1 alien, 2 alien_left, 3 alien_right, 4 friendly_bullet, 5 enemy_bullet.
 */
import type { WritableArrayLike } from '../env.js';
import { clearState, FIRE, GRID, LEFT, type MinAtarGame, RIGHT, setCell } from './game.js';

const SHOT_COOL_DOWN = 5;
const ENEMY_MOVE_INTERVAL = 12;
const ENEMY_SHOT_INTERVAL = 10;

/** A 10 x 10 grid of booleans, [row][col]. */
type Grid = boolean[][];

function emptyGrid(): Grid {
  return Array.from({ length: GRID }, () => new Array<boolean>(GRID).fill(false));
}

export class SpaceInvaders implements MinAtarGame {
  readonly channelNames = ['cannon', 'alien', 'alien_left', 'alien_right', 'friendly_bullet', 'enemy_bullet'] as const;
  readonly minimalActions = [0, 1, 3, 5] as const;
  /** Cannon column; the cannon is always on row 9. */
  pos = 5;
  aliens: Grid = emptyGrid();
  /** -1: the block moves left; +1: right. */
  alienDir = -1;
  enemyMoveInterval = ENEMY_MOVE_INTERVAL;
  alienMoveTimer = ENEMY_MOVE_INTERVAL;
  alienShotTimer = ENEMY_SHOT_INTERVAL;
  shotTimer = 0;
  ramp = 0;
  fBullets: Grid = emptyGrid();
  eBullets: Grid = emptyGrid();
  terminal = false;

  constructor(private readonly ramping = true) {
    this.reset();
  }

  reset(): void {
    this.pos = 5;
    this.aliens = emptyGrid();
    this.spawnAliens();
    this.alienDir = -1;
    this.enemyMoveInterval = ENEMY_MOVE_INTERVAL;
    this.alienMoveTimer = ENEMY_MOVE_INTERVAL;
    this.alienShotTimer = ENEMY_SHOT_INTERVAL;
    this.shotTimer = 0;
    this.ramp = 0;
    this.fBullets = emptyGrid();
    this.eBullets = emptyGrid();
    this.terminal = false;
  }

  rampIndex(): number {
    return this.ramp;
  }

  /** The wave: rows 0..3, columns 2..7. */
  private spawnAliens(): void {
    for (let row = 0; row <= 3; row++) for (let col = 2; col <= 7; col++) this.aliens[row]![col] = true;
  }

  private alienCount(): number {
    let n = 0;
    for (const row of this.aliens) for (const a of row) if (a) n++;
    return n;
  }

  act(action: number): number {
    if (this.terminal) return 0;
    let reward = 0;
    if (action === FIRE) {
      if (this.shotTimer === 0) {
        this.fBullets[GRID - 1]![this.pos] = true;
        this.shotTimer = SHOT_COOL_DOWN;
      }
    } else if (action === LEFT) {
      this.pos = Math.max(0, this.pos - 1);
    } else if (action === RIGHT) {
      this.pos = Math.min(GRID - 1, this.pos + 1);
    }

    // Friendly bullets fly up a row (those on row 0 leave); enemy bullets fall a row.
    // (The row that falls off is cleared and reused as the new empty row.)
    this.fBullets.push(this.fBullets.shift()!.fill(false));
    this.eBullets.unshift(this.eBullets.pop()!.fill(false));
    const bottom = GRID - 1;
    if (this.eBullets[bottom]![this.pos]) this.terminal = true;
    if (this.aliens[bottom]![this.pos]) this.terminal = true;

    if (this.alienMoveTimer === 0) {
      // Fewer aliens move faster: the period is the alien count once it drops below the interval.
      this.alienMoveTimer = Math.min(this.alienCount(), this.enemyMoveInterval);
      const atLeft = this.aliens.some((row) => row[0]);
      const atRight = this.aliens.some((row) => row[GRID - 1]);
      if ((atLeft && this.alienDir < 0) || (atRight && this.alienDir > 0)) {
        this.alienDir = -this.alienDir;
        if (this.aliens[bottom]!.some((a) => a)) this.terminal = true;
        this.aliens.unshift(this.aliens.pop()!.fill(false));
      } else {
        // Shift every row one column in the direction of travel (no alien is on the leading edge).
        for (const row of this.aliens) {
          if (this.alienDir < 0) {
            row.shift();
            row.push(false);
          } else {
            row.pop();
            row.unshift(false);
          }
        }
      }
      if (this.aliens[bottom]![this.pos]) this.terminal = true;
    }

    if (this.alienShotTimer === 0) {
      this.alienShotTimer = ENEMY_SHOT_INTERVAL;
      // The column with an alien nearest the cannon (ties to the lower column), from its lowest alien.
      let bestCol = -1;
      for (let col = 0; col < GRID; col++) {
        if (!this.aliens.some((row) => row[col])) continue;
        if (bestCol < 0 || Math.abs(col - this.pos) < Math.abs(bestCol - this.pos)) bestCol = col;
      }
      if (bestCol >= 0) {
        let lowest = GRID - 1;
        while (!this.aliens[lowest]![bestCol]) lowest--;
        this.eBullets[lowest]![bestCol] = true;
      }
    }

    for (let row = 0; row < GRID; row++) {
      for (let col = 0; col < GRID; col++) {
        if (this.aliens[row]![col] && this.fBullets[row]![col]) {
          this.aliens[row]![col] = false;
          this.fBullets[row]![col] = false;
          reward += 1;
        }
      }
    }

    if (this.shotTimer > 0) this.shotTimer -= 1;
    this.alienMoveTimer -= 1;
    this.alienShotTimer -= 1;

    if (this.alienCount() === 0) {
      if (this.ramping && this.enemyMoveInterval > 6) {
        this.enemyMoveInterval -= 1;
        this.ramp += 1;
      }
      this.spawnAliens();
    }
    return reward;
  }

  writeState(out: WritableArrayLike, offset: number): void {
    clearState(out, offset, 6);
    setCell(out, offset, 0, GRID - 1, this.pos);
    const dirChannel = this.alienDir < 0 ? 2 : 3;
    for (let row = 0; row < GRID; row++) {
      for (let col = 0; col < GRID; col++) {
        if (this.aliens[row]![col]) {
          setCell(out, offset, 1, row, col);
          setCell(out, offset, dirChannel, row, col);
        }
        if (this.fBullets[row]![col]) setCell(out, offset, 4, row, col);
        if (this.eBullets[row]![col]) setCell(out, offset, 5, row, col);
      }
    }
  }
}
