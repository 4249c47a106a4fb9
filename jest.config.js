// ts-jest in ESM mode, as actions/typescript-action configures it. Type checking of src and
// tests is done once by `npm run build` (tsc -p tsconfig.test.json); ncc checks src alone.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }]
  },
  testTimeout: 60000,
  // Most suites wait on loopback servers and child processes, not the CPU: run more files than cores.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 4,
  verbose: false
}
