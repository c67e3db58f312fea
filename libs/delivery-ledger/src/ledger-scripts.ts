import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

/**
 * The ledger's Lua scripts: `lua/<name>.lua`, each run with `lua/prelude.lua` in front of it (its helpers
 * and the key layout of ledger-keys.ts). Read once, when this module loads. `nest build` copies them
 * next to the compiled code (nest-cli.json `assets`); when run from a build without them, the source
 * files are read instead. Their arguments are typed below: each script decodes one JSON object of its
 * call (cjson, in C) instead of positional fields.
 */
export type LedgerScriptName = 'reserve' | 'apply' | 'read' | 'restore-phase' | 'restore-since';

export const LEDGER_SCRIPT_NAMES: readonly LedgerScriptName[] = ['reserve', 'apply', 'read', 'restore-phase', 'restore-since'];

/** The directory holding the .lua files: beside this module (source, or dist with assets), else the source tree. */
export function ledgerLuaDir(): string {
  const beside = join(__dirname, 'lua');
  if (existsSync(join(beside, 'prelude.lua'))) return beside;
  // dist/libs/delivery-ledger/src -> libs/delivery-ledger/src
  const source = resolve(__dirname.replace(`${sep}dist${sep}libs${sep}`, `${sep}libs${sep}`), 'lua');
  if (existsSync(join(source, 'prelude.lua'))) return source;
  throw new Error(`the delivery ledger's Lua scripts are missing (looked in ${beside} and ${source})`);
}

function load(): Record<LedgerScriptName, string> {
  const dir = ledgerLuaDir();
  const prelude = readFileSync(join(dir, 'prelude.lua'), 'utf8');
  const out = {} as Record<LedgerScriptName, string>;
  for (const name of LEDGER_SCRIPT_NAMES) out[name] = `${prelude}\n${readFileSync(join(dir, `${name}.lua`), 'utf8')}`;
  return out;
}

export const LEDGER_SCRIPTS: Readonly<Record<LedgerScriptName, string>> = load();

/** reserve.lua, ARGV[1]. */
export interface ReserveCallArg {
  now: number;
  bucketMs: number;
  windowBuckets: number;
  pendingMs: number;
  tailFraction: number;
  /** "<QUEUE_PREFIX>:dlv:" */
  prefix: string;
  limitWindowMs: number;
}

/** reserve.lua, one per decision (followed by its user id, IP and candidates). */
export interface ReserveDecisionArg {
  /** One decision id per slot. */
  ids: string[];
  /** Candidates that follow. */
  n: number;
  /** 0: no limit. */
  listenerLimit: number;
  ipLimit: number;
}

/** reserve.lua, one per candidate (amounts in milli-micros, integers). */
export interface CandidateArg {
  li: string;
  cp: string;
  price: number;
  reserve: number;
  budget: number;
  /** Absent: no daily budget. */
  daily?: number;
  /** Absent: the campaign has no budget. */
  campaignBudget?: number;
  /** Quarter-hour index of the start of the advertiser's local day. */
  dayQ: number;
  basis: 'd' | 'f' | 'n';
  target: number;
  allowance: number;
  random: number;
  /** [max impressions, period ms] */
  caps: Array<[number, number]>;
  /** Longest cap period, s (0: uncapped). */
  capTtl: number;
}

/** apply.lua, ARGV[1]. */
export interface ApplyCallArg {
  now: number;
  bucketMs: number;
  quarterMs: number;
  recentQuarters: number;
  defaultCapTtlSeconds: number;
  prefix: string;
  limitWindowMs: number;
}

/** apply.lua, one per event (followed by its user id). */
export interface ApplyEventArg {
  event: string;
  cost: number;
  release: number;
  occurred: number;
  issued: number;
  decision: string;
  li: string;
  cp: string;
}

/** restore-phase.lua, ARGV[1]. */
export interface RestorePhaseArg {
  phase: 'begin' | 'finish' | 'abort';
  token: string;
  ttlMs: number;
  stamp: string;
}

/** restore-since.lua, ARGV[1]. */
export interface RestoreSinceArg {
  quarterTtlMs: number;
  fields: string[];
}

/** The one place a script argument becomes text. */
export function scriptArg<T extends ReserveCallArg | ReserveDecisionArg | CandidateArg | ApplyCallArg | ApplyEventArg | RestorePhaseArg | RestoreSinceArg>(arg: T): string {
  return JSON.stringify(arg);
}
