import { z } from 'zod'

/** The config field of file destinations (CSV, Excel) that joins an array field's values into one cell. */
export const multiValueSeparator = () =>
  z
    .string()
    .default(';')
    .meta({
      title: 'Multi-value separator',
      description: 'Joins the values of a multi-valued (array) field into one cell.',
      'x-ui': { advanced: true },
    })
