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
 * The API also keeps V8's garbage collector off the second core's back (API_PARALLEL_GC=1 restores
 * V8's defaults): young-generation collections run on the main thread (--no-parallel-scavenge), and
 * old-generation marking runs concurrently on one helper thread (--concurrent-marking-max-worker-num=1).
 * By default V8 starts several helper threads for every collection; on a two-core host shared with
 * Redis and MySQL the main thread then waits for them, and decisions arriving meanwhile wait too
 * (p99 at a steady 1,000 decisions/s: 17-52 ms). Collecting everything on the main thread
 * (--single-threaded-gc) fixed that but made each full collection's ~70 ms of marking a run of
 * slow decisions (p99 8.7-13.2 ms, max up to 80 ms); one concurrent marker keeps marking off the
 * main thread without crowding the cores (p99 7.3-8.7 ms, max 19-27 ms, six paired runs; BENCHMARKS.md).
 *
 * API_SEMI_SPACE_MB sets the young generation's semi-space cap (default 16, V8's own). A scavenge
 * copies whatever is alive, and a beacon stays alive until its group commit answers (tens of ms under
 * load): at 16 MB a beacon load runs ~8 scavenges a second of ~10 ms each. Larger spaces mean fewer
 * scavenges for the same work (64 MB: bench:ingest:ab API CPU per beacon 103 -> 94 µs, durable
 * events/s +7%, B ahead in 5 of 5 rounds), but each decision-load pause grew: p99 at a steady 1,000
 * decisions/s was 6.3 ms at 16 MB and 9.3 ms at 32 (8.9 at 64), against a 10 ms target, and the peak
 * RSS rose from 175 to 209 MB (267 at 64). Raise it only for API replicas that serve beacons alone.
 *
 *   node scripts/node-flags.js api   prints the flags (used by package.json scripts)
 */
function nodeFlags(app) {
  if (app === 'api') {
    const flags = [`--max-old-space-size=${Number(process.env.API_MAX_OLD_SPACE_MB || 256)}`, `--max-semi-space-size=${Number(process.env.API_SEMI_SPACE_MB || 16)}`];
    if (process.env.API_PARALLEL_GC !== '1') flags.push('--no-parallel-scavenge', '--concurrent-marking-max-worker-num=1');
    return flags;
  }
  return [];
}

module.exports = { nodeFlags };

if (require.main === module) process.stdout.write(nodeFlags(process.argv[2]).join(' '));
