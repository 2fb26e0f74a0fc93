/**
 * MinAtar Freeway. A chicken in column 4 crosses eight lanes of traffic from row 9 to row 0; each
 * crossing gives +1 and new car speeds. A car hit sends the chicken back to row 9 (no penalty).
 * The episode always lasts exactly 2,501 steps.
 *
 * Channels: 0 chicken, 1 car, 2..6 the trail of a car whose |speed| is 1..5.
 */
import type { WritableArrayLike } from '../env.js';
import { type RandomSource, randint } from '../random.js';
import { clearState, DOWN, GRID, type MinAtarGame, setCell, UP } from './game.js';

const PLAYER_SPEED = 3;
const TIME_LIMIT = 2500;
const CHICKEN_COLUMN = 4;

/** Car i drives on row i + 1; speed is signed (positive moves right), magnitude 1..5. */
export interface FreewayCar {
  x: number;
  row: number;
  timer: number;
  speed: number;
}

export class Freeway implements MinAtarGame {
  readonly channelNames = ['chicken', 'car', 'speed1', 'speed2', 'speed3', 'speed4', 'speed5'] as const;
  readonly minimalActions = [0, 2, 4] as const;
  cars: FreewayCar[] = [];
  /** The chicken's row (it never leaves column 4). */
  pos = 9;
  moveTimer = PLAYER_SPEED;
  terminateTimer = TIME_LIMIT;
  terminal = false;

  constructor(private readonly rng: RandomSource) {
    this.reset();
  }

  reset(): void {
    this.cars = Array.from({ length: 8 }, (_, i) => ({ x: 0, row: i + 1, timer: 0, speed: 0 }));
    this.randomizeSpeeds();
    this.pos = GRID - 1;
    this.moveTimer = PLAYER_SPEED;
    this.terminateTimer = TIME_LIMIT;
    this.terminal = false;
  }

  rampIndex(): null {
    return null;
  }

  /** All eight magnitudes (1..5) are drawn first, then all eight directions; positions are kept. */
  private randomizeSpeeds(): void {
    const magnitudes = this.cars.map(() => randint(this.rng, 1, 6));
    // sign(u - 0.5); u == 0.5 exactly (probability 2^-53) is read as rightward.
    const signs = this.cars.map(() => (this.rng.random() < 0.5 ? -1 : 1));
    this.cars.forEach((car, i) => {
      car.speed = magnitudes[i]! * signs[i]!;
      car.timer = magnitudes[i]!;
    });
  }

  act(action: number): number {
    if (this.terminal) return 0;
    let reward = 0;
    // The chicken can move only when its timer has run out; trying to move restarts the timer.
    if (action === UP && this.moveTimer === 0) {
      this.pos = Math.max(0, this.pos - 1);
      this.moveTimer = PLAYER_SPEED;
    } else if (action === DOWN && this.moveTimer === 0) {
      this.pos = Math.min(GRID - 1, this.pos + 1);
      this.moveTimer = PLAYER_SPEED;
    }
    if (this.pos === 0) {
      reward += 1;
      this.randomizeSpeeds();
      this.pos = GRID - 1;
    }
    for (const car of this.cars) {
      if (car.x === CHICKEN_COLUMN && car.row === this.pos) this.pos = GRID - 1;
      // A car with |speed| k moves once every k + 1 steps (timer k counts down to 0, then it moves).
      if (car.timer === 0) {
        car.timer = Math.abs(car.speed);
        car.x = (car.x + Math.sign(car.speed) + GRID) % GRID;
      } else {
        car.timer -= 1;
      }
      if (car.x === CHICKEN_COLUMN && car.row === this.pos) this.pos = GRID - 1;
    }
    if (this.moveTimer > 0) this.moveTimer -= 1;
    this.terminateTimer -= 1;
    if (this.terminateTimer < 0) this.terminal = true;
    return reward;
  }

  writeState(out: WritableArrayLike, offset: number): void {
    clearState(out, offset, 7);
    setCell(out, offset, 0, this.pos, CHICKEN_COLUMN);
    for (const car of this.cars) {
      setCell(out, offset, 1, car.row, car.x);
      // The trail sits behind the car, wrapping around the edges, on the channel of its speed.
      const back = (car.x - Math.sign(car.speed) + GRID) % GRID;
      setCell(out, offset, 1 + Math.abs(car.speed), car.row, back);
    }
  }
}
