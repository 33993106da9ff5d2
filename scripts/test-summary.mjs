// Prints "N passed, N failed[, N skipped]" from vitest's JSON report; exits 1 when anything failed
// or when no test ran at all.
import fs from 'node:fs'

const file = process.argv[2] ?? 'test-results/vitest.json'
let report
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'))
} catch (error) {
  console.log(`test-summary: no report at ${file} (${error.message})`)
  console.log('0 passed, 1 failed')
  process.exit(1)
}
const passed = report.numPassedTests ?? 0
let failed = report.numFailedTests ?? 0
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
// A test file that failed to load counts as a failure even when it holds no test.
const brokenSuites = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length
failed += brokenSuites
const line = `${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : '')
console.log(line)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
