import { closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete'
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands'
import { bracketMatching } from '@codemirror/language'
import { EditorState } from '@codemirror/state'
import { EditorView, keymap, placeholder as placeholderExt } from '@codemirror/view'
import { useEffect, useRef } from 'react'
import { jsonataCompletion, jsonataSupport } from './jsonata-language.ts'

/** A CodeMirror 6 editor for one JSONata expression: highlighting, syntax errors, field and function completion. */
export function JsonataEditor(props: {
  id: string
  value: string
  onChange: (value: string) => void
  fields: readonly string[]
  label: string
  placeholder?: string
  invalid?: boolean
  required?: boolean
  describedBy?: string
}) {
  const host = useRef<HTMLDivElement>(null)
  const view = useRef<EditorView | null>(null)
  const onChange = useRef(props.onChange)
  const fields = useRef(props.fields)
  onChange.current = props.onChange
  fields.current = props.fields

  useEffect(() => {
    const state = EditorState.create({
      doc: props.value,
      extensions: [
        history(),
        closeBrackets(),
        bracketMatching(),
        jsonataSupport(),
        jsonataCompletion(() => fields.current),
        keymap.of([...closeBracketsKeymap, ...completionKeymap, ...historyKeymap, ...defaultKeymap]),
        EditorView.lineWrapping,
        placeholderExt(props.placeholder ?? ''),
        EditorView.contentAttributes.of({
          'aria-label': props.label,
          'aria-multiline': 'true',
          ...(props.required ? { 'aria-required': 'true' } : {}),
          id: props.id,
          ...(props.describedBy ? { 'aria-describedby': props.describedBy } : {}),
        }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange.current(update.state.doc.toString())
        }),
      ],
    })
    const v = new EditorView({ state, parent: host.current! })
    view.current = v
    return () => {
      v.destroy()
      view.current = null
    }
    // The editor is created once; later value changes are dispatched below.
  }, [])

  useEffect(() => {
    const v = view.current
    if (!v) return
    const current = v.state.doc.toString()
    if (current !== props.value) v.dispatch({ changes: { from: 0, to: current.length, insert: props.value } })
  }, [props.value])

  return (
    <div
      ref={host}
      className={`code-editor${props.invalid ? ' invalid' : ''}`}
      data-testid={`jsonata-${props.id}`}
    />
  )
}
