/** Collections: SCAFFOLD — being built this session; replace this component. */
export function CollectionsScreen() {
  return (
    <main className="page">
      <h1>Collections</h1>
    </main>
  )
}
