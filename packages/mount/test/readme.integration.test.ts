import path from 'node:path'
import { runReadmeExample } from '@rsb/testkit'
import { expect, it } from 'vitest'

it("runs the README's example and prints what its comments say", async () => {
  const { expected, printed } = await runReadmeExample(path.dirname(import.meta.dirname))
  expect(expected.length).toBeGreaterThan(4)
  expect(printed).toEqual(expected)
})
