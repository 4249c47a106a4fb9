// ts-jest in ESM mode, as actions/typescript-action configures it. Type checking of src and
// tests is done once by `npm run build` (tsc -p tsconfig.test.json); ncc checks src alone.
//
// Coverage of src/engine is measured on the tests that load it in-process (__tests__/engine/ and
// the unit tests); the end-to-end tests run dist/index.js in a child process and add nothing to it.
// Jest's default provider (babel-plugin-istanbul) instruments the JavaScript ts-jest emits, under
// --experimental-vm-modules too, and maps it back to the TypeScript lines; the v8 provider was slower
// here and counts type-only modules as uncovered.
//
// The threshold holds for a run of the whole suite (`npm test`, CI). A run of some files only
// (`npm test -- pipeline`) still reports coverage, of what those files load, without failing on it.
const subset = process.argv.slice(2).some((arg) => !arg.startsWith('-'))

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }]
  },
  collectCoverage: true,
  collectCoverageFrom: ['src/engine/**/*.ts'],
  coverageReporters: ['text-summary'],
  coverageThreshold: subset ? undefined : { './src/engine/': { lines: 95, statements: 95, branches: 90, functions: 95 } },
  testTimeout: 60000,
  // Most suites wait on loopback servers and child processes, not the CPU: run more files than cores.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 4,
  verbose: false
}
