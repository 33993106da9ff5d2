import { defineProject } from 'vitest/config'

export default defineProject({
  // plain resolve.conditions does not apply to node tests
  ssr: { resolve: { conditions: ['@rsb/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
