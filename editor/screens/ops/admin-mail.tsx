/** Mail administration: SCAFFOLD — being built this session; replace this component. */
export function MailAdmin() {
  return <section aria-label="Mail" />
}
