/** History: SCAFFOLD — being built this session; replace this component. */
export function HistoryScreen() {
  return (
    <main className="page">
      <h1>History</h1>
    </main>
  )
}
