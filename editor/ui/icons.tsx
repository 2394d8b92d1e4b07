import type { SVGProps } from 'react'

/** A small set of stroke icons (16px grid), drawn to match the UI's line weight. */
const paths = {
  plus: 'M8 3v10M3 8h10',
  search: 'M7 12A5 5 0 1 0 7 2a5 5 0 0 0 0 10zM11 11l3 3',
  undo: 'M5 4L2 7l3 3M2 7h8a4 4 0 0 1 0 8H7',
  redo: 'M11 4l3 3-3 3M14 7H6a4 4 0 0 0 0 8h3',
  play: 'M4.5 3v10l8-5z',
  stop: 'M4 4h8v8H4z',
  save: 'M3 2h8l3 3v9H2V2zM5 2v4h5V2M4.5 14V9h7v5',
  layout: 'M2 3h4v3H2zM10 3h4v3h-4zM10 10h4v3h-4zM6 4.5h4M8 4.5v7h2',
  fit: 'M2 6V2h4M10 2h4v4M14 10v4h-4M6 14H2v-4',
  trash: 'M3 4h10M6 4V2.5h4V4M4.5 4l.7 9.5h5.6l.7-9.5',
  copy: 'M5 5h8v9H5zM3 11V2h8',
  download: 'M8 2v8M4.5 6.5L8 10l3.5-3.5M2 13h12',
  upload: 'M8 11V3M4.5 6.5L8 3l3.5 3.5M2 13h12',
  edit: 'M10.5 2.5l3 3L6 13H3v-3z',
  close: 'M4 4l8 8M12 4l-8 8',
  back: 'M10 3L5 8l5 5',
  chevron: 'M6 4l4 4-4 4',
  chevronDown: 'M4 6l4 4 4-4',
  template: 'M2 2h5v5H2zM9 2h5v5H9zM2 9h5v5H2zM9 11.5h5M11.5 9v5',
  history: 'M2.5 8a5.5 5.5 0 1 0 1.6-3.9M2 2.5V5h2.5M8 5v3.5l2 1.5',
  table: 'M2 3h12v10H2zM2 6.5h12M2 10h12M6 3v10',
  warning: 'M8 2l6.5 11.5h-13zM8 6.5v3M8 11.5v.5',
  error: 'M8 14A6 6 0 1 0 8 2a6 6 0 0 0 0 12zM8 5v3.5M8 10.5v.5',
  check: 'M3 8.5l3 3 7-7',
  graph: 'M2 3h4v3H2zM10 10h4v3h-4zM6 4.5h2a2 2 0 0 1 2 2v3a2 2 0 0 0 2 2',
  logout: 'M6 2H2.5v12H6M10.5 5L14 8l-3.5 3M14 8H6',
  settings:
    'M8 10a2 2 0 1 0 0-4 2 2 0 0 0 0 4zM8 1.5v2M8 12.5v2M1.5 8h2M12.5 8h2M3.4 3.4l1.4 1.4M11.2 11.2l1.4 1.4M3.4 12.6l1.4-1.4M11.2 4.8l1.4-1.4',
  file: 'M3 1.5h6l4 4v9H3zM9 1.5v4h4',
  link: 'M7 9a3 3 0 0 0 4.2 0l2-2A3 3 0 0 0 9 2.8l-1 1M9 7a3 3 0 0 0-4.2 0l-2 2A3 3 0 0 0 7 13.2l1-1',
  grip: 'M6 4h.01M10 4h.01M6 8h.01M10 8h.01M6 12h.01M10 12h.01',
  keyboard: 'M1.5 4h13v8h-13zM4 6.5h.01M6.5 6.5h.01M9 6.5h.01M11.5 6.5h.01M5 9.5h6',
  map: 'M2 8h4M10 8h4M6 5l4 6M6 11l4-6',
  filter: 'M2 3h12L9.5 8.5V13L6.5 14V8.5z',
  source:
    'M3 4c0-1.1 2.2-2 5-2s5 .9 5 2-2.2 2-5 2-5-.9-5-2zM3 4v8c0 1.1 2.2 2 5 2s5-.9 5-2V4M3 8c0 1.1 2.2 2 5 2s5-.9 5-2',
  join: 'M6 8a4 4 0 1 1 0 .01zM10 8a4 4 0 1 1 0 .01z',
  destination: 'M2 8h9M8 5l3 3-3 3M13 2v12',
  sync: 'M13 6A5 5 0 0 0 3.5 5M3 10a5 5 0 0 0 9.5 1M3.5 2.5V5H6M12.5 13.5V11H10',
} as const

export type IconName = keyof typeof paths

export function Icon({
  name,
  size = 16,
  ...rest
}: { name: IconName; size?: number } & SVGProps<SVGSVGElement>) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 16 16"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.5}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
      {...rest}
    >
      <path d={paths[name]} />
    </svg>
  )
}

export const categoryIcon: Record<string, IconName> = {
  source: 'source',
  transform: 'map',
  join: 'join',
  destination: 'destination',
  sync: 'sync',
}
