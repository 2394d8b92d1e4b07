import type { Socket } from 'node:net'
import { AddRequest, Attribute, Change, DeleteRequest, ModifyDNRequest, ModifyRequest } from 'ldapts'
import { beforeAll, expect, it } from 'vitest'
import { hostileValues } from '../../test/ldap/hostile.ts'
import { describeWithSlapd } from '../../test/ldap/slapd.ts'
import { LdapConnection, LdapPool } from './connection.ts'
import { childDn, parseDn } from './dn.ts'
import { RawWriter } from './raw-write.ts'

const BASE = 'ou=People,dc=example,dc=com'
const MOVED = 'ou=Moved,dc=example,dc=com'
const PHOTO = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x80, 0xfe])

describeWithSlapd('lean writes (add, modify, delete, modifyDN on the borrowed socket)', (server) => {
  beforeAll(async () => {
    const client = await server().client()
    try {
      await client.add(MOVED, { objectClass: ['organizationalUnit'], ou: 'Moved' })
    } finally {
      await client.unbind()
    }
  })

  const settings = () => ({
    url: server().url,
    bindDN: server().rootDn,
    password: server().rootPw,
    startTLS: false,
    timeoutMs: 30_000,
  })

  /** A connection writing through the lean encoder, and the bytes it sends. */
  async function lean() {
    const connection = await LdapConnection.open(settings())
    expect(connection.leanWrites()).toBe(true)
    const socket = (connection.client as unknown as { socket: Socket }).socket
    const sent: Buffer[] = []
    const write = socket.write.bind(socket) as (chunk: Buffer) => boolean
    socket.write = ((chunk: Buffer) => {
      sent.push(Buffer.from(chunk))
      return write(chunk)
    }) as Socket['write']
    const lastId = () => (connection.client as unknown as { messageId: number }).messageId
    return { connection, sent, lastId }
  }

  async function read(dn: string, attributes: string[]) {
    const client = await server().client()
    try {
      const { searchEntries } = await client.search(dn, {
        scope: 'base',
        attributes,
        explicitBufferAttributes: ['jpegPhoto'],
      })
      return searchEntries[0]
    } finally {
      await client.unbind()
    }
  }

  it('sends exactly the bytes ldapts sends, for every operation and length form', async () => {
    const { connection, sent, lastId } = await lean()
    const expectSame = async (operation: Promise<void>, ldapts: (messageId: number) => Buffer) => {
      sent.length = 0
      const outcome = await operation.then(
        () => 'ok',
        (error: unknown) => String(error),
      )
      expect(Buffer.concat(sent).equals(ldapts(lastId())), outcome).toBe(true)
      return outcome
    }
    const unicode = 'Zoë Łukasz 山田 🙂'
    const dn = childDn('cn', unicode, BASE)
    // Values of 1-, 2- and 3-byte BER lengths (the whole message then needs a 4-byte one).
    const attributes = {
      objectClass: ['inetOrgPerson'],
      cn: [unicode],
      sn: ['x'.repeat(200)],
      description: ['d'.repeat(300), 'e'.repeat(70_000)],
      jpegPhoto: [PHOTO],
    }
    try {
      expect(
        await expectSame(connection.add(dn, attributes), (messageId) =>
          new AddRequest({
            messageId,
            dn,
            attributes: Object.entries(attributes).map(([type, values]) => new Attribute({ type, values })),
          }).write(),
        ),
      ).toBe('ok')
      const changes = [
        { op: 'add' as const, attribute: 'mail', values: ['a@example.com', 'b@example.com'] },
        { op: 'delete' as const, attribute: 'description', values: [] },
        { op: 'replace' as const, attribute: 'title', values: [hostileValues[0]!] },
      ]
      expect(
        await expectSame(connection.modify(dn, changes), (messageId) =>
          new ModifyRequest({
            messageId,
            dn,
            changes: changes.map(
              (c) =>
                new Change({
                  operation: c.op,
                  modification: new Attribute({ type: c.attribute, values: c.values }),
                }),
            ),
          }).write(),
        ),
      ).toBe('ok')
      const renamed = childDn('cn', `${unicode}!`, MOVED)
      expect(
        await expectSame(connection.modifyDN(dn, `cn=${unicode}!`, MOVED), (messageId) =>
          new ModifyDNRequest({
            messageId,
            dn,
            deleteOldRdn: true,
            newRdn: `cn=${unicode}!`,
            newSuperior: MOVED,
          }).write(),
        ),
      ).toBe('ok')
      const again = childDn('cn', `${unicode}?`, MOVED)
      expect(
        await expectSame(connection.modifyDN(renamed, `cn=${unicode}?`), (messageId) =>
          new ModifyDNRequest({
            messageId,
            dn: renamed,
            deleteOldRdn: true,
            newRdn: `cn=${unicode}?`,
          }).write(),
        ),
      ).toBe('ok')
      const entry = await read(again, ['cn', 'sn', 'mail', 'title', 'description', 'jpegPhoto'])
      expect(entry).toMatchObject({
        cn: `${unicode}?`,
        sn: 'x'.repeat(200),
        mail: ['a@example.com', 'b@example.com'],
        title: hostileValues[0],
        jpegPhoto: PHOTO,
      })
      expect(entry?.description).toEqual([]) // ldapts lists an absent attribute asked for as []
      expect(
        await expectSame(connection.del(again), (messageId) =>
          new DeleteRequest({ messageId, dn: again }).write(),
        ),
      ).toBe('ok')
      expect(await read(again, ['cn']).catch((e: unknown) => String(e))).toMatch(/NoSuchObjectError/)
    } finally {
      await connection.close()
    }
  })

  it('stores hostile values literally, pipelined, and fails only the objects the server refuses', async () => {
    const pool = await LdapPool.open(settings(), 2, {}, 4)
    try {
      const dns = hostileValues.map((value) => childDn('cn', value, BASE))
      const adds = hostileValues.map((value, i) =>
        pool.run((c) => c.add(dns[i]!, { objectClass: ['person'], cn: [value], sn: [value] })),
      )
      // The same DN again (already exists) and an entry without its required sn, among the others.
      const refused = [
        pool.run((c) => c.add(dns[1]!, { objectClass: ['person'], cn: [hostileValues[1]!], sn: ['again'] })),
        pool.run((c) => c.add(childDn('cn', 'no-sn', BASE), { objectClass: ['person'], cn: ['no-sn'] })),
        pool.run((c) => c.del(childDn('cn', 'nobody', BASE))),
      ]
      const outcomes = await Promise.allSettled([...adds, ...refused])
      expect(outcomes.slice(0, adds.length).every((o) => o.status === 'fulfilled')).toBe(true)
      const errors = outcomes.slice(adds.length).map((o) => {
        const error = (o as PromiseRejectedResult).reason as Error
        return [error.constructor.name, pool.connections[0]!.error(error).code]
      })
      expect(errors).toEqual([
        ['AlreadyExistsError', 'LDAP_ALREADY_EXISTS'],
        ['ObjectClassViolationError', 'LDAP_OBJECT_CLASS_VIOLATION'],
        ['NoSuchObjectError', 'NO_SUCH_OBJECT'],
      ])
      for (const [i, value] of hostileValues.entries()) {
        const entry = await read(dns[i]!, ['cn', 'sn'])
        expect(entry?.sn).toBe(value)
        expect(parseDn(entry!.dn)[0]).toEqual([{ type: 'cn', value }])
      }
      // A value that cannot be encoded fails its own request, and sends none of its bytes.
      const broken = {
        length: 3,
        copy: () => {
          throw new Error('cannot copy')
        },
      } as unknown as Buffer
      await expect(
        pool.run((c) =>
          c.add(childDn('cn', 'broken', BASE), { objectClass: ['person'], cn: ['b'], sn: [broken] }),
        ),
      ).rejects.toThrow('cannot copy')
      expect(pool.writes).toBe(hostileValues.length + 4)
      await Promise.all(dns.map((dn) => pool.run((c) => c.del(dn))))
    } finally {
      await pool.close()
    }
  })

  it('fails the writes in flight when the connection drops, and every later one', async () => {
    const { connection } = await lean()
    try {
      const writes = Array.from({ length: 20 }, (_, i) =>
        connection.add(childDn('cn', `drop${i}`, BASE), {
          objectClass: ['person'],
          cn: [`drop${i}`],
          sn: ['x'],
        }),
      )
      ;(connection.client as unknown as { socket: Socket }).socket.destroy()
      const outcomes = await Promise.allSettled(writes)
      expect(outcomes.every((o) => o.status === 'rejected')).toBe(true)
      const codes = outcomes.map((o) => connection.error((o as PromiseRejectedResult).reason).code)
      expect(new Set(codes)).toEqual(new Set(['SERVER_UNREACHABLE']))
      const later = await connection
        .del(childDn('cn', 'drop0', BASE))
        .catch((e: unknown) => connection.error(e).code)
      expect(later).toBe('SERVER_UNREACHABLE')
    } finally {
      await connection.close()
    }
  })

  it('gives the socket back to ldapts on release, which then reads and writes as before', async () => {
    const client = await server().client()
    try {
      const writer = RawWriter.borrow(client, 30_000)
      expect(writer).toBeDefined()
      const dn = childDn('cn', 'handback', BASE)
      await writer!.add(dn, { objectClass: ['person'], cn: ['handback'], sn: ['x'] })
      writer!.release()
      const { searchEntries } = await client.search(dn, { scope: 'base', attributes: ['sn'] })
      expect(searchEntries.map((e) => e.sn)).toEqual(['x'])
      await client.del(dn)
    } finally {
      await client.unbind()
    }
  })
})
