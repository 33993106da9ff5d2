import path from 'node:path'
import { defineProject } from 'vitest/config'

// `pnpm test:unit` sets RSB_TEST_TIER=unit: only *.test.ts files that are neither integration nor e2e tests, and
// none of them may start a program (vitest.unit-guard.ts).
const unit = process.env.RSB_TEST_TIER === 'unit'

export default defineProject({
  // plain resolve.conditions does not apply to node tests
  ssr: { resolve: { conditions: ['@rsb/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: unit ? ['**/node_modules/**', '**/*.integration.test.ts', '**/*.e2e.test.ts'] : ['**/node_modules/**'],
    setupFiles: unit ? [path.join(import.meta.dirname, 'vitest.unit-guard.ts')] : [],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
