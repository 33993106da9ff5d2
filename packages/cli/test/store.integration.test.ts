// The store's metadata (.rsb/) written and read with real commands in a LocalContext: claims never replace,
// planted entries are never written through, damaged or newer metadata is refused, hostile names survive.
import fs from 'node:fs/promises'
import path from 'node:path'
import { LocalContext } from '@rsb/exec'
import { testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'
import { readStore, registerMirror, writeRecords } from '../src/session/store.ts'

const context = new LocalContext()

describe('store metadata', () => {
  it('a claim (mode new) never replaces: the second writer is told the name is taken, the first record stays', async () => {
    const t = await testdir()
    const dir = path.join(t, '.rsb/snapshots')
    expect(await writeRecords(context, dir, new Map([['a.json', { version: 1, who: 'first' }]]), 'new')).toEqual([])
    expect(await writeRecords(context, dir, new Map([['a.json', { version: 1, who: 'second' }]]), 'new')).toEqual(['a.json'])
    expect(JSON.parse(await fs.readFile(path.join(dir, 'a.json'), 'utf8'))).toEqual({ version: 1, who: 'first' })
    expect(await fs.readdir(dir)).toEqual(['a.json'])
  })

  it('a directory planted at a record name is a taken name, not a place to link into', async () => {
    const t = await testdir()
    const dir = path.join(t, 'records')
    await fs.mkdir(path.join(dir, 'a.json'), { recursive: true })
    expect(await writeRecords(context, dir, new Map([['a.json', { version: 1 }]]), 'new')).toEqual(['a.json'])
    expect(await fs.readdir(path.join(dir, 'a.json'))).toEqual([])
    await expect(writeRecords(context, dir, new Map([['a.json', { version: 1 }]]), 'replace')).rejects.toThrow()
    expect(await fs.readdir(dir)).toEqual(['a.json'])
  })

  it('registers a mirror once; a second registration of the same name returns the first record', async () => {
    const t = await testdir({ 'b/latest/x': 'x' })
    const store = path.join(t, 'b')
    const first = await registerMirror(context, await readStore(context, store), 'latest')
    const again = await registerMirror(context, await readStore(context, store), 'latest')
    expect(again).toEqual(first)
    const state = await readStore(context, store)
    expect(state.store).toMatchObject({ format: 'rsb-store', version: 1 })
    expect(state.mirrors).toEqual([first])
    expect(state.entries.get('latest')).toBe('d')
    expect(state.entries.has('.rsb')).toBe(false)
  })

  it('entries with spaces, quotes, $(), tabs and newlines are read back exactly', async () => {
    const t = await testdir()
    const names = [`it's "a" $(touch pwned)`, 'tab\there', 'new\nline', 'x=y_z']
    for (const name of names) await fs.mkdir(path.join(t, name))
    await fs.writeFile(path.join(t, 'file'), '')
    const state = await readStore(context, t)
    expect([...state.entries.keys()].sort()).toEqual([...names, 'file'].sort())
    expect(state.entries.get('file')).toBe('f')
    expect(await fs.readdir(t)).not.toContain('pwned')
  })

  it.each([
    ['a newer format', '{"format":"rsb-store","version":2,"created":"2030-01-01T00:00:00.000Z"}'],
    ['a damaged file', '{"format":"rsb-st'],
    ['another format', '{"format":"something-else","version":1}'],
  ])('%s in store.json is refused (ERR_RSB_CLI_STORE_UNREADABLE)', async (_what, text) => {
    const t = await testdir({ '.rsb/store.json': `${text}\n` })
    await expect(readStore(context, t)).rejects.toMatchObject({ code: 'ERR_RSB_CLI_STORE_UNREADABLE', hint: expect.any(String) })
  })

  it('a missing store directory reads as no store', async () => {
    const t = await testdir()
    expect(await readStore(context, path.join(t, 'nothing'))).toMatchObject({ store: undefined, mirrors: [], entries: new Map() })
  })
})
