/** Parse `$.a.b[0]["c d"]` (or `a.b[0]`) into keys; throws on anything else. */
export function parseJsonPath(path: string): (string | number)[] {
  const keys: (string | number)[] = []
  let rest = path.startsWith('$') ? path.slice(1) : `.${path}`
  const token = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\['((?:[^'\\]|\\.)*)'\])/
  while (rest.length > 0) {
    const m = token.exec(rest)
    if (m === null) throw new Error(`"${path}" is not a JSON path like $.field or $.list[0]`)
    if (m[1] !== undefined) keys.push(m[1])
    else if (m[2] !== undefined) keys.push(Number(m[2]))
    else if (m[3] !== undefined) keys.push(JSON.parse(m[3]) as string)
    else keys.push(m[4]!)
    rest = rest.slice(m[0].length)
  }
  if (keys.length === 0) throw new Error(`"${path}" points at the whole config; point at one value in it`)
  return keys
}

/** Replace the value at `keys` inside `root`; returns the old value, or throws when the path does not exist. */
export function replaceAt(
  root: unknown,
  keys: readonly (string | number)[],
  value: unknown,
  path: string,
): unknown {
  let parent: unknown = root
  for (const key of keys.slice(0, -1)) parent = step(parent, key, path)
  const last = keys[keys.length - 1]!
  const old = step(parent, last, path)
  ;(parent as Record<string | number, unknown>)[last] = value
  return old
}

function step(value: unknown, key: string | number, path: string): unknown {
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) {
    throw new Error(`the config has no value at ${path}`)
  }
  return (value as Record<string | number, unknown>)[key]
}
