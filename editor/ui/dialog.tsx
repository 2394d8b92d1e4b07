import { useEffect, useRef, type FormEvent, type ReactNode } from 'react'
import { Icon } from './icons.tsx'

/** A modal built on <dialog>: focus is trapped and Escape closes it, natively. */
export function Dialog(props: {
  title: string
  open: boolean
  onClose: () => void
  onSubmit?: () => void | Promise<void>
  children: ReactNode
  footer?: ReactNode
  wide?: boolean
  submitLabel?: string
  submitDisabled?: boolean
  danger?: boolean
  busy?: boolean
}) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    if (props.open && !dialog.open) dialog.showModal()
    if (!props.open && dialog.open) dialog.close()
  }, [props.open])

  const submit = (event: FormEvent) => {
    event.preventDefault()
    void props.onSubmit?.()
  }
  const titleId = `dialog-${props.title.replace(/\W+/g, '-').toLowerCase()}`
  return (
    <dialog
      ref={ref}
      className={`dialog${props.wide ? ' dialog-wide' : ''}`}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault()
        props.onClose()
      }}
    >
      {props.open && (
        <form className="dialog-form" onSubmit={submit}>
          <div className="dialog-head">
            <h2 id={titleId} className="grow">
              {props.title}
            </h2>
            <button
              type="button"
              className="btn btn-ghost btn-icon"
              aria-label="Close"
              onClick={props.onClose}
            >
              <Icon name="close" />
            </button>
          </div>
          <div className="dialog-body">{props.children}</div>
          <div className="dialog-foot">
            {props.footer ?? (
              <>
                <button type="button" className="btn" onClick={props.onClose}>
                  Cancel
                </button>
                {props.onSubmit && (
                  <button
                    type="submit"
                    className={`btn ${props.danger ? 'btn-danger btn-solid' : 'btn-primary'}`}
                    disabled={props.submitDisabled || props.busy}
                  >
                    {props.busy && <span className="spinner" aria-hidden="true" />}
                    {props.submitLabel ?? 'OK'}
                  </button>
                )}
              </>
            )}
          </div>
        </form>
      )}
    </dialog>
  )
}

/** The footer of a dialog that only shows something: one "Close" button. */
export function CloseFooter(props: { onClose: () => void }) {
  return (
    <button type="button" className="btn" onClick={props.onClose}>
      Close
    </button>
  )
}
