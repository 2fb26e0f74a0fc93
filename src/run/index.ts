/** Runs: configs and presets, run directories, progress and reports. */
export { resolveConfig, parseArgs, type Config, type ConfigSpec, type ConfigValue } from './config.js';
export { Progress, type ProgressOptions } from './progress.js';
export { Run, type RunInfo } from './run.js';
export { type Landmark, type SampleOptions } from './landmark.js';
export { writeReport, readMetrics, type ResultRow, type MetricRecord } from '../report/report.js';
export { lineChart, type Series } from '../report/chart.js';
