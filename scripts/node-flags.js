/* global require, module, process */
/**
 * Node flags of each process, in one place for every launcher (npm start, npm run start:api, the
 * test and benchmark harness).
 *
 * The API caps its old generation (API_MAX_OLD_SPACE_MB, default 256). Without a cap V8 sizes the
 * heap from the machine (4 GB here) and lets garbage pile up before collecting it: under decision
 * load the API's RSS climbed past 350 MB with a working set of about 60 MB. With the cap, V8
 * collects earlier and the same load peaks under 200 MB at the same throughput (BENCHMARKS.md).
 * Raise it for very large catalogs: the eligibility index of each API process lives in this heap.
 *
 * The API also collects garbage on its own thread (--single-threaded-gc; API_PARALLEL_GC=1 turns it
 * off). V8's parallel scavenger and concurrent marker start helper threads that compete for the cores
 * with the main thread, Redis and MySQL; on a busy host the main thread then waits for them, and a
 * decision that arrives meanwhile waits too. At a steady 1,000 decisions/s p99 went from 17-52 ms to
 * 11-14 ms (five paired runs), for about 5% more CPU per decision at full load (BENCHMARKS.md).
 *
 *   node scripts/node-flags.js api   prints the flags (used by package.json scripts)
 */
function nodeFlags(app) {
  if (app === 'api') {
    const flags = [`--max-old-space-size=${Number(process.env.API_MAX_OLD_SPACE_MB || 256)}`];
    if (process.env.API_PARALLEL_GC !== '1') flags.push('--single-threaded-gc');
    return flags;
  }
  return [];
}

module.exports = { nodeFlags };

if (require.main === module) process.stdout.write(nodeFlags(process.argv[2]).join(' '));
