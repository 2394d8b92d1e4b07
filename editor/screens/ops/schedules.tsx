/** Schedules: SCAFFOLD — being built this session; replace this component. */
export function SchedulesScreen() {
  return (
    <main className="page">
      <h1>Schedules</h1>
    </main>
  )
}
