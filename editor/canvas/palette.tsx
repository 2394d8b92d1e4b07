import { memo, useMemo, useRef, useState, type KeyboardEvent } from 'react'
import type { NodeTypeInfo } from '../api/types.ts'
import { useEditor } from '../store/editor-store.ts'
import { categoryIcon, Icon } from '../ui/icons.tsx'

export const NODE_DRAG_TYPE = 'application/x-syncgraph-node'

const categoryOrder = ['source', 'transform', 'join', 'destination', 'sync']
const categoryTitle: Record<string, string> = {
  source: 'Sources',
  transform: 'Transforms',
  join: 'Joins',
  destination: 'Destinations',
  sync: 'Sync',
}

/** The node palette: search, grouped by category, drag onto the canvas or press Enter / click to add. */
export const Palette = memo(function Palette({ onAdd }: { onAdd: (type: string) => void }) {
  const catalog = useEditor((s) => s.catalog)
  const [query, setQuery] = useState('')
  const [active, setActive] = useState(0)
  const listRef = useRef<HTMLUListElement>(null)

  const groups = useMemo(() => {
    const q = query.trim().toLowerCase()
    const matches = Object.values(catalog).filter(
      (t) =>
        !q ||
        t.title.toLowerCase().includes(q) ||
        t.type.toLowerCase().includes(q) ||
        t.description.toLowerCase().includes(q),
    )
    const byCat = new Map<string, NodeTypeInfo[]>()
    for (const t of matches) byCat.set(t.category, [...(byCat.get(t.category) ?? []), t])
    const cats = [...byCat.keys()].sort((a, b) => {
      const ia = categoryOrder.indexOf(a)
      const ib = categoryOrder.indexOf(b)
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b)
    })
    return cats.map((c) => ({ category: c, types: byCat.get(c)! }))
  }, [catalog, query])
  const flat = useMemo(() => groups.flatMap((g) => g.types), [groups])
  const current = Math.min(active, Math.max(flat.length - 1, 0))

  const focusItem = (index: number) => {
    setActive(index)
    listRef.current?.querySelector<HTMLElement>(`[data-index="${index}"]`)?.focus()
  }
  const onSearchKey = (event: KeyboardEvent) => {
    if (event.key === 'ArrowDown' && flat.length > 0) {
      event.preventDefault()
      focusItem(0)
    } else if (event.key === 'Enter' && flat[current]) {
      event.preventDefault()
      onAdd(flat[current].type)
    } else if (event.key === 'Escape') {
      setQuery('')
    }
  }
  const onItemKey = (event: KeyboardEvent, index: number, type: string) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault()
      focusItem(Math.min(index + 1, flat.length - 1))
    } else if (event.key === 'ArrowUp') {
      event.preventDefault()
      if (index === 0) listRef.current?.parentElement?.querySelector<HTMLInputElement>('input')?.focus()
      else focusItem(index - 1)
    } else if (event.key === 'Home') {
      event.preventDefault()
      focusItem(0)
    } else if (event.key === 'End') {
      event.preventDefault()
      focusItem(flat.length - 1)
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault()
      onAdd(type)
    }
  }

  let index = -1
  return (
    <aside className="palette" aria-label="Node palette">
      <div className="palette-search">
        <Icon name="search" />
        <input
          className="input"
          type="search"
          placeholder="Search nodes"
          aria-label="Search nodes"
          aria-controls="palette-list"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value)
            setActive(0)
          }}
          onKeyDown={onSearchKey}
        />
      </div>
      <ul className="palette-list" id="palette-list" ref={listRef} role="listbox" aria-label="Node types">
        {groups.map((group) => (
          <li key={group.category} role="presentation">
            <div className="palette-cat" role="presentation">
              {categoryTitle[group.category] ?? group.category}
            </div>
            <ul role="group" aria-label={categoryTitle[group.category] ?? group.category}>
              {group.types.map((t) => {
                index++
                const i = index
                return (
                  <li
                    key={t.type}
                    role="option"
                    aria-selected={i === current}
                    tabIndex={i === current ? 0 : -1}
                    data-index={i}
                    data-type={t.type}
                    className={`palette-item cat-${t.category}`}
                    draggable
                    title={t.description}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(NODE_DRAG_TYPE, t.type)
                      e.dataTransfer.setData('text/plain', t.type)
                      e.dataTransfer.effectAllowed = 'copy'
                    }}
                    onClick={() => onAdd(t.type)}
                    onFocus={() => setActive(i)}
                    onKeyDown={(e) => onItemKey(e, i, t.type)}
                  >
                    <span className="palette-icon" aria-hidden="true">
                      <Icon name={categoryIcon[t.category] ?? 'graph'} size={14} />
                    </span>
                    <span className="palette-text">
                      <span className="palette-title">{t.title}</span>
                      <span className="palette-type">{t.type}</span>
                    </span>
                  </li>
                )
              })}
            </ul>
          </li>
        ))}
        {flat.length === 0 && <li className="empty">No node matches “{query}”</li>}
      </ul>
      <div className="palette-foot faint">Drag onto the canvas, or press Enter to add.</div>
    </aside>
  )
})
