/**
 * The unit and integration tiers as one project, for mutation testing (stryker.config.json): Stryker
 * runs the specs covering each mutant, and some mutated files (the idempotency store) are covered by
 * integration specs only.
 */
const [unit, integration] = require('./jest.config').projects;

module.exports = { ...unit, displayName: undefined, testMatch: [...unit.testMatch, ...integration.testMatch], testPathIgnorePatterns: ['/node_modules/'], maxWorkers: 1 };
