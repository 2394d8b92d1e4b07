/** Users administration: SCAFFOLD — being built this session; replace this component. */
export function UsersAdmin() {
  return <section aria-label="Users" />
}
