/**
 * Every workflow the gateway's worker runs. Deterministic code only: no Node builtins, no I/O.
 */
export { echoWorkflow } from './diagnostics';
