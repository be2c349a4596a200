/** The workflow bundle's entry point: every workflow type the worker registers. */
export { SessionWorkflow } from './session';
export { TurnWorkflow } from './turn';
