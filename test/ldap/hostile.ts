/** Values that must survive a round trip literally (STYLE.md §8, issue 5 point 6). */
export const hostileValues = [
  '*)(uid=*',
  'Smith, John',
  'a+b',
  'back\\slash',
  'ends with backslash\\',
  '#hash',
  ' leading space',
  'trailing space ',
  'say "hi"',
  '<a>;b=c',
  'nul\0byte',
  'Zoë Łukasz 山田 🙂',
  "'; DROP TABLE users; --",
]
