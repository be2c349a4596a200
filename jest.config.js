/**
 * Jest runs TypeScript through ts-jest in CommonJS mode. execa 9 and a few of its
 * dependencies are ESM-only, and Jest's own module loader cannot require ESM on
 * Node 20, so those packages are transformed too (the list below). unicorn-magic only
 * exports an `import` condition, so it is mapped to its Node entry directly.
 */
const esmOnly = [
  'execa', '@sindresorhus', 'figures', 'is-unicode-supported', 'get-stream', '@sec-ant',
  'is-stream', 'human-signals', 'is-plain-obj', 'npm-run-path', 'unicorn-magic',
  'pretty-ms', 'parse-ms', 'strip-final-newline', 'yoctocolors', 'path-key',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true }, diagnostics: { ignoreCodes: [151001] } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper: { '^unicorn-magic$': '<rootDir>/node_modules/unicorn-magic/node.js' },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
};
