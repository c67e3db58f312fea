import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

/**
 * The ledger's Lua scripts: `lua/<name>.lua`, each run with `lua/prelude.lua` in front of it (its helpers
 * and the key layout of ledger-keys.ts). Read once, when this module loads. `nest build` copies them
 * next to the compiled code (nest-cli.json `assets`); when run from a build without them, the source
 * files are read instead. Their arguments are typed below: each script decodes one JSON object of its
 * call (cjson, in C) instead of positional fields.
 */
export type LedgerScriptName = 'lease' | 'decide' | 'apply' | 'read' | 'restore-phase' | 'restore-since';

export const LEDGER_SCRIPT_NAMES: readonly LedgerScriptName[] = ['lease', 'decide', 'apply', 'read', 'restore-phase', 'restore-since'];

/**
 * Scripts that run over several stripes of one shard in one call (the ledger groups their work per
 * shard): Redis (7.0+) lets a script touch several slots of its node only when it says so, and takes
 * one declared slot per call (it routes the call). They read a key of every stripe they touch before
 * writing anything, so a stripe that moved to another shard fails the call before it changes anything.
 */
const CROSS_SLOT: ReadonlySet<LedgerScriptName> = new Set(['decide', 'apply', 'read']);

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
  for (const name of LEDGER_SCRIPT_NAMES) {
    const shebang = CROSS_SLOT.has(name) ? '#!lua flags=allow-cross-slot-keys\n' : '';
    out[name] = `${shebang}${prelude}\n${readFileSync(join(dir, `${name}.lua`), 'utf8')}`;
  }
  return out;
}

export const LEDGER_SCRIPTS: Readonly<Record<LedgerScriptName, string>> = load();

/** lease.lua, ARGV[1] (amounts in milli-micros, integers). */
export interface LeaseArg {
  /** The API replica (process) holding the lease. */
  replica: string;
  now: number;
  bucketMs: number;
  windowBuckets: number;
  ttlMs: number;
  /** What the replica reserved from its lease since its last call: [reservation bucket, amount]. */
  used: Array<[number, number]>;
  /** What those decisions took from the lease: their exposure, a whole event's price each (lease-book.ts). */
  exposure: number;
  /** Return the unused lease instead of taking more. */
  release: boolean;
  want: number;
  /** One decision's amount: leases are granted in multiples of it. */
  unit: number;
  budget: number;
  /** Line items with a daily budget. */
  daily?: number;
  /** Line items: quarter-hour index of the start of the advertiser's local day. */
  dayQ?: number;
  /** Most the leases of all replicas together may hold. */
  cap: number;
  tailFraction: number;
  /** Line items: longest frequency-cap period, s (0: uncapped), for apply.lua. */
  capTtl?: number;
}

/** decide.lua: one decision's listener step. */
export interface DecisionArg {
  /** Its stripe's position in `markers`, from 1. */
  m: number;
  /** 0: no limit. */
  listenerLimit: number;
  /** One decision id per slot. */
  ids: string[];
  /** The candidates that fit budgets and pacing, best first: line item id, caps as [max impressions, period ms]. */
  cands: Array<{ li: string; caps: Array<[number, number]> }>;
}

/** decide.lua, ARGV[1]. */
export interface DecideArg {
  now: number;
  pendingMs: number;
  limitWindowMs: number;
  /** Restore marker of each stripe involved. */
  markers: string[];
  decisions: DecisionArg[];
}

/** apply.lua, ARGV[1]. */
export interface ApplyCallArg {
  now: number;
  bucketMs: number;
  quarterMs: number;
  recentQuarters: number;
  defaultCapTtlSeconds: number;
  limitWindowMs: number;
  /** The prefix of each stripe the call touches (an item's `s` is its position, from 1). */
  prefixes: string[];
  /** Their restoring markers, in the same order. */
  restoring: string[];
}

/** read.lua, ARGV[1]. */
export interface ReadArg {
  keys: string[];
  fields: string[];
}

/** apply.lua, one per item (followed by the user id of a listener item, '' otherwise). */
export type ApplyItemArg =
  | { k: 'li' | 'cp'; s: number; id: string; event: string; cost: number; release: number; occurred: number; issued: number }
  | { k: 'u'; s: number; li: string; decision: string; occurred: number; issued: number; ttl: number };

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
export function scriptArg<T extends LeaseArg | DecideArg | ApplyCallArg | ApplyItemArg | ReadArg | RestorePhaseArg | RestoreSinceArg>(arg: T): string {
  return JSON.stringify(arg);
}
