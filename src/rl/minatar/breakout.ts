/**
 * MinAtar Breakout. A paddle on the bottom row, a ball moving diagonally, three rows of bricks.
 * +1 per brick; the episode ends when the ball reaches the bottom row without a paddle bounce.
 * When no bricks remain, three fresh rows appear the next time the ball reaches row 9.
 *
 * Channels: 0 paddle, 1 ball, 2 trail (the ball's previous cell), 3 brick.
 */
import type { WritableArrayLike } from '../env.js';
import { type RandomSource, randint } from '../random.js';
import { clearState, GRID, LEFT, type MinAtarGame, RIGHT, setCell } from './game.js';

/** Ball directions 0..3: up-left, up-right, down-right, down-left (y grows downwards). */
const DX = [-1, 1, 1, -1] as const;
const DY = [-1, -1, 1, 1] as const;
/** Reverse dx (bounce off a side wall). */
const H_FLIP = [1, 0, 3, 2] as const;
/** Reverse dy (bounce off the ceiling, a brick, or the paddle below). */
const V_FLIP = [3, 2, 1, 0] as const;
/** Reverse both (the paddle caught the ball on its diagonal landing cell). */
const REVERSE = [2, 3, 0, 1] as const;

export class Breakout implements MinAtarGame {
  readonly channelNames = ['paddle', 'ball', 'trail', 'brick'] as const;
  readonly minimalActions = [0, 1, 3] as const;
  ballX = 0;
  ballY = 3;
  ballDir = 2;
  /** Paddle column; the paddle is always on row 9. */
  pos = 4;
  /** bricks[row][col]. */
  bricks: boolean[][] = [];
  /** A brick was struck on the previous step: the debounce that lets the ball pass into a brick cell. */
  strike = false;
  lastX = 0;
  lastY = 3;
  terminal = false;

  constructor(private readonly rng: RandomSource) {
    this.reset();
  }

  reset(): void {
    this.ballY = 3;
    // One draw picks the starting corner: left edge heading down-right, or right edge heading down-left.
    if (randint(this.rng, 0, 2) === 0) {
      this.ballX = 0;
      this.ballDir = 2;
    } else {
      this.ballX = GRID - 1;
      this.ballDir = 3;
    }
    this.pos = 4;
    this.bricks = Array.from({ length: GRID }, () => new Array<boolean>(GRID).fill(false));
    this.fillBricks();
    this.strike = false;
    this.lastX = this.ballX;
    this.lastY = this.ballY;
    this.terminal = false;
  }

  rampIndex(): null {
    return null;
  }

  private fillBricks(): void {
    for (let row = 1; row <= 3; row++) this.bricks[row]!.fill(true);
  }

  private anyBricks(): boolean {
    return this.bricks.some((row) => row.some((b) => b));
  }

  act(action: number): number {
    if (this.terminal) return 0;
    let reward = 0;
    if (action === LEFT) this.pos = Math.max(0, this.pos - 1);
    else if (action === RIGHT) this.pos = Math.min(GRID - 1, this.pos + 1);

    this.lastX = this.ballX;
    this.lastY = this.ballY;
    let dir = this.ballDir;
    let newX = this.ballX + DX[dir]!;
    let newY = this.ballY + DY[dir]!;
    let strikeToggle = false;
    if (newX < 0 || newX >= GRID) {
      // Side wall: stay in the edge column this step and reverse horizontally.
      newX = newX < 0 ? 0 : GRID - 1;
      dir = H_FLIP[dir]!;
    }
    if (newY < 0) {
      newY = 0;
      dir = V_FLIP[dir]!;
    } else if (this.bricks[newY]![newX]) {
      strikeToggle = true;
      if (!this.strike) {
        reward += 1;
        this.strike = true;
        this.bricks[newY]![newX] = false;
        newY = this.lastY; // the ball keeps its row this step
        dir = V_FLIP[dir]!;
      }
      // A brick struck on the previous step too: the ball moves into this brick cell untouched.
    } else if (newY === GRID - 1) {
      if (!this.anyBricks()) this.fillBricks();
      if (this.ballX === this.pos) {
        // Paddle directly below the ball.
        dir = V_FLIP[dir]!;
        newY = this.lastY;
      } else if (newX === this.pos) {
        // Paddle on the landing cell: the ball goes back the way it came.
        dir = REVERSE[dir]!;
        newY = this.lastY;
      } else {
        this.terminal = true;
      }
    }
    if (!strikeToggle) this.strike = false;
    this.ballX = newX;
    this.ballY = newY;
    this.ballDir = dir;
    return reward;
  }

  writeState(out: WritableArrayLike, offset: number): void {
    clearState(out, offset, 4);
    setCell(out, offset, 0, GRID - 1, this.pos);
    setCell(out, offset, 1, this.ballY, this.ballX);
    setCell(out, offset, 2, this.lastY, this.lastX);
    for (let row = 0; row < GRID; row++) {
      for (let col = 0; col < GRID; col++) if (this.bricks[row]![col]) setCell(out, offset, 3, row, col);
    }
  }
}
