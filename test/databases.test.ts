import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import {
  alive,
  chooseDatabase,
  runDirFor,
  privateMissing,
  sharedDatabase,
  startPrivate,
  stopDatabases,
  stopServer,
  type DatabaseKind,
  type DatabaseServer,
} from './databases.ts'
import { open } from './sql/services.ts'
import { describeWithService } from './services.ts'

/** Processes (not zombies) in the process group `pgid`: a server and its children. */
function group(pgid: number): number[] {
  const members: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry))
    } catch {
      // Exited while listing.
    }
  }
  return members
}

async function answer(server: DatabaseServer): Promise<unknown> {
  const connector = open({ driver: server.kind === 'postgres' ? 'postgres' : 'mysql', ...server.settings })
  try {
    let value: unknown
    for await (const batch of connector.query('SELECT 40 + 2 AS n', [], 1, new AbortController().signal))
      value = batch[0]?.n
    return Number(value)
  } finally {
    await connector.close()
  }
}

const envBefore = { PG_URL: process.env.PG_URL, MYSQL_URL: process.env.MYSQL_URL }
afterEach(() => {
  for (const [key, value] of Object.entries(envBefore)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
})

for (const kind of ['postgres', 'mariadb'] as const satisfies DatabaseKind[]) {
  describeWithService(`a private ${kind} for the tests`, privateMissing(kind), () => {
    it('starts in a temp folder on a free loopback port, answers a query, and stops leaving nothing', async () => {
      const server = await startPrivate(kind)
      let stopped = false
      try {
        expect(server).toMatchObject({
          kind,
          source: 'private',
          settings: { host: '127.0.0.1', database: 'test' },
        })
        expect(server.settings.port).not.toBe(kind === 'postgres' ? 5432 : 3306)
        expect(existsSync(server.dir!)).toBe(true)
        expect(group(server.pid!).length).toBeGreaterThan(0)
        expect(await answer(server)).toBe(42)
        await stopServer(server)
        stopped = true
        expect({
          running: alive(server.pid!),
          group: group(server.pid!),
          dir: existsSync(server.dir!),
        }).toEqual({
          running: false,
          group: [],
          dir: false,
        })
      } finally {
        if (!stopped) await stopServer(server)
      }
    })

    it('is started once for all the test files of a run, and stopped with the run', async () => {
      const dir = runDirFor()
      try {
        // Two files asking at once: one decides under the lock, both get the same server.
        const [a, b] = await Promise.all([
          sharedDatabase(dir, kind, { forcePrivate: true }),
          sharedDatabase(dir, kind, { forcePrivate: true }),
        ])
        if (a.missing !== undefined) throw new Error(a.missing)
        expect(b).toEqual(a)
        const server = a.server
        expect(server.source).toBe('private')
        expect(await answer(server)).toBe(42)
        expect(readdirSync(dir).sort()).toEqual(
          [`${kind}.${basename(server.dir!)}.stop`, `${kind}.json`, 'reaper'].sort(),
        )
        await stopDatabases(dir)
        expect({ group: group(server.pid!), dir: existsSync(server.dir!), run: existsSync(dir) }).toEqual({
          group: [],
          dir: false,
          run: false,
        })
      } finally {
        await stopDatabases(dir)
      }
    })

    it('is stopped and removed by the reaper when the run dies without its teardown', async () => {
      // The run's owner: a process we kill, as a test run killed before its globalSetup teardown.
      const owner = spawn('sleep', ['600'], { stdio: 'ignore' })
      const dir = runDirFor(owner.pid)
      try {
        const choice = await sharedDatabase(dir, kind, { forcePrivate: true })
        if (choice.missing !== undefined) throw new Error(choice.missing)
        const { server } = choice
        expect(group(server.pid!).length).toBeGreaterThan(0)
        owner.kill('SIGKILL')
        const gone = () => group(server.pid!).length === 0 && !existsSync(server.dir!) && !existsSync(dir)
        for (let tries = 0; !gone() && tries < 450; tries++) await new Promise((r) => setTimeout(r, 100))
        expect({ group: group(server.pid!), dir: existsSync(server.dir!), run: existsSync(dir) }).toEqual({
          group: [],
          dir: false,
          run: false,
        })
      } finally {
        owner.kill('SIGKILL')
        await stopDatabases(dir)
      }
    }, 120_000)
  })
}

it('takes PG_URL / MYSQL_URL as they are, without probing the standard ports', async () => {
  process.env.PG_URL = 'postgres://sync:p%40ss@db.example:6543/hr'
  process.env.MYSQL_URL = 'mysql://root@127.0.0.1:1/'
  expect(await chooseDatabase('postgres')).toEqual({
    server: {
      kind: 'postgres',
      source: 'env',
      settings: { host: 'db.example', port: 6543, user: 'sync', password: 'p@ss', database: 'hr' },
    },
  })
  expect(await chooseDatabase('mariadb')).toEqual({
    server: {
      kind: 'mariadb',
      source: 'env',
      settings: { host: '127.0.0.1', port: 1, user: 'root', password: '', database: 'test' },
    },
  })
})
