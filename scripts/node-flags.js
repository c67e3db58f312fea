/* global require, module, process */
/**
 * Node flags of each process, in one place for every launcher (npm start, npm run start:api,
 * npm run start:worker, the test and benchmark harness). The API's V8 heap and garbage-collector
 * settings come from API_MAX_OLD_SPACE_MB, API_SEMI_SPACE_MB and API_PARALLEL_GC (why these defaults,
 * with the measurements: docs/production.md); the worker's heap from WORKER_MAX_OLD_SPACE_MB and
 * WORKER_SEMI_SPACE_MB (docs/data-lifecycle.md: the export's memory). A malformed value stops the launch
 * with its name (flags are fixed before the process starts, so the apps' own config validation cannot
 * see them).
 *
 *   node scripts/node-flags.js api|worker   prints the flags, or the problems on stderr with exit code 1
 */
const SETTINGS = {
  api: {
    API_MAX_OLD_SPACE_MB: { default: 256, min: 64, max: 65536 },
    API_SEMI_SPACE_MB: { default: 16, min: 1, max: 1024 },
    API_PARALLEL_GC: { default: 0, min: 0, max: 1 },
  },
  worker: {
    WORKER_MAX_OLD_SPACE_MB: { default: 256, min: 64, max: 65536 },
    WORKER_SEMI_SPACE_MB: { default: 8, min: 1, max: 1024 },
  },
};

/** The validated settings of one app in `env` (empty or absent: the default); throws naming every wrong one. */
function settingsOf(app, env = process.env) {
  const settings = {};
  const problems = [];
  for (const [name, rule] of Object.entries(SETTINGS[app] ?? {})) {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? rule.default : /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value < rule.min || value > rule.max) problems.push(`${name}=${JSON.stringify(raw)}: must be a whole number from ${rule.min} to ${rule.max}`);
    settings[name] = value;
  }
  if (problems.length > 0) throw new Error(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return settings;
}

function nodeFlags(app, env = process.env) {
  const s = settingsOf(app, env);
  if (app === 'worker') return [`--max-old-space-size=${s.WORKER_MAX_OLD_SPACE_MB}`, `--max-semi-space-size=${s.WORKER_SEMI_SPACE_MB}`];
  if (app !== 'api') return [];
  const flags = [`--max-old-space-size=${s.API_MAX_OLD_SPACE_MB}`, `--max-semi-space-size=${s.API_SEMI_SPACE_MB}`];
  if (s.API_PARALLEL_GC !== 1) flags.push('--no-parallel-scavenge', '--concurrent-marking-max-worker-num=1');
  return flags;
}

module.exports = { nodeFlags, settingsOf };

if (require.main === module) {
  try {
    process.stdout.write(nodeFlags(process.argv[2]).join(' '));
  } catch (err) {
    process.stderr.write(`${err.message}\nFix these environment variables (defaults are in .env.example) and start again.\n`);
    process.exit(1);
  }
}
