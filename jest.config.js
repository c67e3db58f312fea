/**
 * Three tiers, named by what they need: `unit` (*.spec.ts beside the code: no service at all),
 * `integration` (*.integration-spec.ts beside the code: the local MariaDB and/or Redis, each spec in a
 * database or key prefix of its own) and `e2e` (test/: real API and worker processes on MariaDB and
 * Redis, each run in its own database and Redis prefix).
 */
const paths = require('./tsconfig.json').compilerOptions.paths;

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(paths)) {
  moduleNameMapper[`^${alias.replace('/*', '/(.*)')}$`] = `<rootDir>/${target.replace('/*', '/$1')}`;
}

// NestJS 12 ships ES modules only; Jest on Node 20 cannot require() them, so they are transpiled.
const esmPackages = ['@nestjs', '@seriousme', 'file-type', 'strtok3', 'token-types', 'uint8array-extras', '@tokenizer', 'load-esm'];

const transform = {
  '^.+\\.[tj]s$': ['<rootDir>/test/support/jest-transformer.js', { tsconfig: '<rootDir>/tsconfig.spec.json', diagnostics: { ignoreCodes: ['TS151001'] } }],
};

const common = {
  rootDir: __dirname,
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform,
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper,
  testEnvironment: 'node',
  setupFiles: ['reflect-metadata'],
};

const unit = { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'], testPathIgnorePatterns: ['/node_modules/'] };
const integration = { ...common, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs}/**/*.integration-spec.ts'] };

module.exports = {
  projects: [
    unit,
    integration,
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      testTimeout: 60000,
      slowTestThreshold: 20,
    },
  ],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  maxWorkers: 2,
  testTimeout: 60000,
};
