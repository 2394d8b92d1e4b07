/** Policies administration: SCAFFOLD — being built this session; replace this component. */
export function PoliciesAdmin() {
  return <section aria-label="Policies" />
}
