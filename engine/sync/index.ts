/** The sync planner shared by every `*.sync` node: plan computation, thresholds, apply, plan documents. */
export * from './apply.ts'
export * from './document.ts'
export * from './outcomes.ts'
export * from './plan.ts'
export * from './types.ts'
