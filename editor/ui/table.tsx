/** The head cell of a list table's actions column: named for screen readers, empty on screen. */
export function ActionsHeader() {
  return (
    <th>
      <span className="visually-hidden">Actions</span>
    </th>
  )
}
