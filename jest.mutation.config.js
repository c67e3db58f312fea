/** The unit tier alone, for mutation testing (stryker.config.json): Stryker runs it once per mutant. */
const [unit] = require('./jest.config').projects;

module.exports = { ...unit, displayName: undefined, maxWorkers: 1 };
