/**
 * Run configuration: a paper's typed config, a named preset, and `--key=value` overrides checked
 * against the preset's fields (unknown keys and values of the wrong type are refused with the list
 * of valid ones).
 */

export type ConfigValue = number | string | boolean | number[] | string[] | null;
export type Config = Record<string, ConfigValue>;

/** A paper's presets and a one-line doc for each config field. */
export interface ConfigSpec<C extends Config> {
  presets: Record<string, C>;
  /** The preset used when none is named. */
  defaultPreset: string;
  docs: { [K in keyof C]: string };
  /** Fields limited to a set of strings, e.g. { env: ['cartpole', 'breakout'] }. */
  choices?: Partial<{ [K in keyof C]: readonly string[] }>;
}

function parseValue(key: string, raw: string, example: ConfigValue, choices?: readonly string[]): ConfigValue {
  const fail = (want: string) =>
    new Error(`config: --${key}=${raw} is not a valid value (expected ${want}${choices ? `: one of ${choices.join(', ')}` : ''})`);
  if (typeof example === 'number') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) throw fail('a number');
    return v;
  }
  if (typeof example === 'boolean') {
    if (raw === 'true' || raw === '1' || raw === '') return true;
    if (raw === 'false' || raw === '0') return false;
    throw fail('true or false');
  }
  if (Array.isArray(example)) {
    const parts = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (example.length > 0 && typeof example[0] === 'number') {
      const nums = parts.map(Number);
      if (nums.some((n) => !Number.isFinite(n))) throw fail('a comma-separated list of numbers');
      return nums;
    }
    return parts;
  }
  if (choices && !choices.includes(raw)) throw fail('a string');
  if (example === null) {
    if (raw === 'null' || raw === '') return null;
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  return raw;
}

/**
 * Resolves a preset plus overrides ("key=value" strings, or a record of raw strings) into a full
 * config. Throws naming the bad key or value and listing the valid ones.
 */
export function resolveConfig<C extends Config>(
  spec: ConfigSpec<C>,
  preset: string | undefined,
  overrides: Record<string, string>,
): C {
  const name = preset ?? spec.defaultPreset;
  const base = spec.presets[name];
  if (!base) {
    throw new Error(`config: unknown preset '${name}' (presets: ${Object.keys(spec.presets).join(', ')})`);
  }
  const out: Config = { ...base };
  for (const [key, raw] of Object.entries(overrides)) {
    if (!(key in base)) {
      const valid = Object.keys(base).map((k) => `  --${k}  ${spec.docs[k as keyof C]}`);
      throw new Error(`config: unknown key '${key}'. Valid keys:\n${valid.join('\n')}`);
    }
    out[key] = parseValue(key, raw, base[key]!, spec.choices?.[key as keyof C]);
  }
  for (const [key, allowed] of Object.entries(spec.choices ?? {})) {
    const v = out[key];
    if (typeof v === 'string' && allowed && !(allowed as readonly string[]).includes(v)) {
      throw new Error(`config: ${key} = '${v}' is not one of ${(allowed as readonly string[]).join(', ')}`);
    }
  }
  return out as C;
}

/** Splits CLI arguments into `--key=value` / `--key value` pairs and positionals. */
export function parseArgs(argv: readonly string[]): { flags: Record<string, string>; positionals: string[] } {
  const flags: Record<string, string> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const body = a.slice(2);
      const eq = body.indexOf('=');
      if (eq >= 0) flags[body.slice(0, eq)] = body.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags[body] = argv[++i]!;
      else flags[body] = '';
    } else positionals.push(a);
  }
  return { flags, positionals };
}
