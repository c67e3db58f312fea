#!/usr/bin/env node
/**
 * Mutation testing of the ledger's Lua scripts, which StrykerJS cannot mutate: applies each one-line
 * mutation of test/mutations/ledger-lua.mutations.json to a temporary copy of the checkout, runs the
 * ledger's suites there, and expects them to fail. Exits 1 when a mutation survives (or no longer
 * applies: the list must follow the scripts). Usage: npm run test:mutation:lua [-- <id> ...]
 */
const { execFileSync, spawnSync } = require('node:child_process');
const { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const root = resolve(__dirname, '..');
const SUITES = ['libs/delivery-ledger/src/'];
const only = process.argv.slice(2);
const mutations = JSON.parse(readFileSync(join(root, 'test/mutations/ledger-lua.mutations.json'), 'utf8')).filter((m) => only.length === 0 || only.includes(m.id));

const copy = mkdtempSync(join(tmpdir(), 'adp-lua-mutation-'));
try {
  for (const file of execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean)) {
    try {
      cpSync(join(root, file), join(copy, file));
    } catch {
      /* deleted in the work tree */
    }
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  const results = [];
  for (const m of mutations) {
    const path = join(copy, m.file);
    const original = readFileSync(path, 'utf8');
    const hits = original.split(m.from).length - 1;
    if (hits !== 1) {
      results.push({ id: m.id, verdict: `NOT APPLIED (${hits} matches)` });
      continue;
    }
    writeFileSync(path, original.replace(m.from, m.to));
    const started = Date.now();
    const run = spawnSync(process.execPath, [join(copy, 'node_modules/jest/bin/jest.js'), '--selectProjects', 'integration', '--testPathPatterns', ...SUITES], { cwd: copy, encoding: 'utf8' });
    writeFileSync(path, original);
    results.push({ id: m.id, verdict: run.status === 0 ? 'SURVIVED' : 'killed', seconds: Math.round((Date.now() - started) / 1000) });
    console.log(`${run.status === 0 ? 'SURVIVED' : 'killed  '} ${m.id}`);
  }
  const killed = results.filter((r) => r.verdict === 'killed').length;
  console.log(`\nLua mutations: ${killed} of ${results.length} killed`);
  for (const r of results.filter((x) => x.verdict !== 'killed')) console.log(`  ${r.verdict}: ${r.id}`);
  process.exitCode = killed === results.length ? 0 : 1;
} finally {
  rmSync(copy, { recursive: true, force: true });
}
