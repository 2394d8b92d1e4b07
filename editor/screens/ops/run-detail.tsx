/** Run: SCAFFOLD — being built this session; replace this component. */
export function RunDetailScreen({ runId }: { runId: string }) {
  return (
    <main className="page">
      <h1>Run {runId}</h1>
    </main>
  )
}
