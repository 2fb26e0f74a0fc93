// Times a JavaScript call for bench/bench.mjs and bench/tfjs_worker.mjs.

/** Seconds per call of `f` over `reps` calls: wall clock, or this process's CPU time when `cpu`. */
export function timeJs(f, reps, cpu) {
  if (cpu) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < reps; i++) f();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1e6 / reps;
  }
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) f();
  return Number(process.hrtime.bigint() - t0) / 1e9 / reps;
}
