/**
 * Attribute values as rows carry them: text as strings, binary as text forms — objectGUID as a GUID
 * string, objectSid as `S-1-…`, anything else binary as base64.
 */

/** Attributes that are binary whatever the schema says (Active Directory's best known). */
export const WELL_KNOWN_BINARY = [
  'objectGUID',
  'objectSid',
  'sIDHistory',
  'tokenGroups',
  'msExchMailboxGuid',
  'mS-DS-ConsistencyGuid',
  'thumbnailPhoto',
  'jpegPhoto',
  'userCertificate',
  'cACertificate',
  'msDS-GenerationId',
  'securityIdentifier',
]

const GUID_ATTRIBUTES = new Set(['objectguid', 'msexchmailboxguid', 'ms-ds-consistencyguid'])
const SID_ATTRIBUTES = new Set(['objectsid', 'sidhistory', 'tokengroups', 'securityidentifier'])

/** Whether `attribute` holds GUIDs (objectGUID…): rows carry them as GUID strings, compared without case or braces. */
export function isGuidAttribute(attribute: string): boolean {
  return GUID_ATTRIBUTES.has(attribute.split(';')[0]!.toLowerCase())
}

/** AD's objectGUID byte order: the first three groups are little-endian. */
export function guidToString(bytes: Buffer): string {
  if (bytes.length !== 16) return bytes.toString('base64')
  const h = (i: number) => bytes[i]!.toString(16).padStart(2, '0')
  const part = (idx: number[]) => idx.map(h).join('')
  return [part([3, 2, 1, 0]), part([5, 4]), part([7, 6]), part([8, 9]), part([10, 11, 12, 13, 14, 15])].join(
    '-',
  )
}

/** The bytes of a GUID string in AD's objectGUID order, e.g. for an `(objectGUID=…)` filter. */
export function guidToBytes(guid: string): Buffer {
  const hex = guid.replace(/[{}-]/g, '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`Invalid GUID ${JSON.stringify(guid)}`)
  const b = Buffer.from(hex, 'hex')
  return Buffer.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)])
}

/** A binary SID as `S-<revision>-<authority>-<sub>…`. */
export function sidToString(bytes: Buffer): string {
  if (bytes.length < 8) return bytes.toString('base64')
  const count = bytes[1]!
  if (bytes.length < 8 + count * 4) return bytes.toString('base64')
  const authority = bytes.readUIntBE(2, 6)
  const subs: number[] = []
  for (let i = 0; i < count; i++) subs.push(bytes.readUInt32LE(8 + i * 4))
  return ['S', bytes[0]!, authority, ...subs].join('-')
}

/** The text form of one binary value of `attribute`. */
export function binaryToText(attribute: string, value: Buffer): string {
  const name = attribute.split(';')[0]!.toLowerCase()
  if (GUID_ATTRIBUTES.has(name)) return guidToString(value)
  if (SID_ATTRIBUTES.has(name)) return sidToString(value)
  return value.toString('base64')
}
