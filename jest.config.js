/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }],
    // ESM-only packages reached through require() (content-disposition via @fastify/static, cookie
    // via light-my-request for app.inject): Node 24 loads them natively, jest's CommonJS runtime
    // needs them transformed.
    '^.+/node_modules/(content-disposition|cookie)/.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  setupFiles: ['<rootDir>/test/support/load-stack-env.ts'],
  testTimeout: 60_000,
  // Real servers: tests share one stack, so files run one after another (--runInBand in scripts).
  maxWorkers: 1,
};
