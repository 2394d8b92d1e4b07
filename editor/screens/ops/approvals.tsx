/** Approvals: SCAFFOLD — being built this session; replace this component. */
export function ApprovalsScreen() {
  return (
    <main className="page">
      <h1>Approvals</h1>
    </main>
  )
}
