/** Dashboard: SCAFFOLD — being built this session; replace this component. */
export function DashboardScreen() {
  return (
    <main className="page">
      <h1>Dashboard</h1>
    </main>
  )
}
