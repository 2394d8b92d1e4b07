/** What a server connection is called in messages and logs: its URL without the password. */
export function describeTarget(
  scheme: string,
  defaultPort: number,
  settings: { url?: string; user?: string; host?: string; port?: number; database?: string },
): string {
  if (settings.url !== undefined) {
    try {
      const url = new URL(settings.url)
      url.password = ''
      return url.toString()
    } catch {
      return `${scheme} (connection string)`
    }
  }
  return `${scheme}://${settings.user ?? ''}@${settings.host ?? 'localhost'}:${settings.port ?? defaultPort}/${settings.database ?? ''}`
}
