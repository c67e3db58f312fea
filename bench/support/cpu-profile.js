/* global require, process */
/**
 * Preloaded with NODE_OPTIONS=--require (where --cpu-prof is not allowed): profiles the process with
 * the inspector and writes a .cpuprofile into CPU_PROFILE_DIR when it exits on SIGTERM or SIGINT.
 */
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const session = new Session();
session.connect();
session.post('Profiler.enable', () => session.post('Profiler.start'));
let written = false;
function write() {
  if (written) return;
  written = true;
  session.post('Profiler.stop', (err, { profile }) => {
    if (!err) writeFileSync(join(process.env.CPU_PROFILE_DIR || '.', `api-${process.pid}.cpuprofile`), JSON.stringify(profile));
  });
}
process.on('SIGTERM', write);
process.on('SIGINT', write);
process.on('beforeExit', write);
